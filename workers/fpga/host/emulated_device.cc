#include "workers/fpga/host/emulated_device.h"

#include <sys/mman.h>  // mmap, munmap

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"  // absl::StrCat

namespace accllm::fpga {

absl::StatusOr<std::unique_ptr<EmulatedDevice>> EmulatedDevice::Create(
    const EmulatedDeviceOptions& options) {
  if (options.num_banks < 1 || options.num_banks > kMaxBanks) {
    return absl::InvalidArgumentError(absl::StrCat("emulated card: ", options.num_banks,
                                                   " banks (1..", kMaxBanks, " supported)"));
  }
  if (options.bank_bytes == 0 || options.bank_bytes % kDeviceAlignment != 0) {
    return absl::InvalidArgumentError(absl::StrCat("emulated card: bank size ",
                                                   options.bank_bytes, " is not a positive ",
                                                   "multiple of ", kDeviceAlignment));
  }
  std::unique_ptr<EmulatedDevice> device(new EmulatedDevice(options));
  for (int b = 0; b < options.num_banks; ++b) {
    void* p = mmap(nullptr, options.bank_bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "emulated card: cannot map bank ", b, " (", options.bank_bytes,
          " bytes of address space): ", std::strerror(errno)));
    }
    device->base_.push_back(static_cast<uint8_t*>(p));
  }
  return device;
}

EmulatedDevice::EmulatedDevice(const EmulatedDeviceOptions& options) : options_(options) {
  banks_.reserve(options.num_banks);
  for (int b = 0; b < options.num_banks; ++b) banks_.emplace_back(b, options.bank_bytes);
}

EmulatedDevice::~EmulatedDevice() {
  for (uint8_t* p : base_) munmap(p, options_.bank_bytes);
}

void EmulatedDevice::RegisterKernel(std::string name, KernelFn fn) {
  std::lock_guard<std::mutex> lock(mu_);
  kernels_[std::move(name)] = std::move(fn);
}

void EmulatedDevice::SetCycleModel(CycleModel model) {
  std::lock_guard<std::mutex> lock(mu_);
  cycle_model_ = std::move(model);
}

absl::StatusOr<DeviceRef> EmulatedDevice::Allocate(int bank, uint64_t bytes) {
  if (bank < 0 || bank >= options_.num_banks) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Allocate: bank ", bank, " out of range (the card has ", options_.num_banks, " banks)"));
  }
  std::lock_guard<std::mutex> lock(mu_);
  absl::StatusOr<uint64_t> offset = banks_[bank].Allocate(bytes);
  if (!offset.ok()) return offset.status();
  return DeviceRef{bank, *offset, bytes};
}

absl::Status EmulatedDevice::Free(const DeviceRef& ref) {
  if (absl::Status s = CheckRefRange("Free", ref, 0, 0, options_.num_banks); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  return banks_[ref.bank].Free(ref.offset);
}

absl::Status EmulatedDevice::Check(const char* what, const DeviceRef& ref, uint64_t offset,
                                   uint64_t n) const {
  if (absl::Status s = CheckRefRange(what, ref, offset, n, options_.num_banks); !s.ok()) {
    return s;
  }
  std::lock_guard<std::mutex> lock(mu_);
  absl::Status s = banks_[ref.bank].CheckLive(ref.offset, ref.bytes);
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": ", s.message()));
  return absl::OkStatus();
}

absl::Status EmulatedDevice::Write(const DeviceRef& ref, uint64_t offset, const void* src,
                                   uint64_t n) {
  if (absl::Status s = Check("Write", ref, offset, n); !s.ok()) return s;
  if (n > 0) std::memcpy(base_[ref.bank] + ref.offset + offset, src, n);
  std::lock_guard<std::mutex> lock(mu_);
  counters_.host_to_device_bytes += n;
  return absl::OkStatus();
}

absl::Status EmulatedDevice::Read(const DeviceRef& ref, uint64_t offset, void* dst, uint64_t n) {
  if (absl::Status s = Check("Read", ref, offset, n); !s.ok()) return s;
  if (n > 0) std::memcpy(dst, base_[ref.bank] + ref.offset + offset, n);
  std::lock_guard<std::mutex> lock(mu_);
  counters_.device_to_host_bytes += n;
  return absl::OkStatus();
}

absl::Status EmulatedDevice::Sync(const DeviceRef& ref, Direction) {
  // Host memory is the card's memory: nothing moves, but a bad ref is still an error so code
  // that works here works on the card.
  return Check("Sync", ref, 0, ref.bytes);
}

absl::Status EmulatedDevice::Copy(const DeviceRef& dst, uint64_t dst_offset, const DeviceRef& src,
                                  uint64_t src_offset, uint64_t n) {
  if (absl::Status s = Check("Copy (destination)", dst, dst_offset, n); !s.ok()) return s;
  if (absl::Status s = Check("Copy (source)", src, src_offset, n); !s.ok()) return s;
  // memmove: a page copy within one pool may overlap.
  if (n > 0) {
    std::memmove(base_[dst.bank] + dst.offset + dst_offset,
                 base_[src.bank] + src.offset + src_offset, n);
  }
  std::lock_guard<std::mutex> lock(mu_);
  counters_.device_copy_bytes += n;
  return absl::OkStatus();
}

DeviceMemory EmulatedDevice::memory(BankCounters* counters) const {
  DeviceMemory mem;
  for (int b = 0; b < options_.num_banks; ++b) mem.base[b] = base_[b];
  mem.counters = counters;
  return mem;
}

absl::Status EmulatedDevice::Run(const std::string& kernel, const KernelArgs& args,
                                 absl::Duration timeout) {
  KernelFn fn;
  CycleModel model;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = kernels_.find(kernel);
    if (it == kernels_.end()) {
      std::string known;
      for (const auto& [name, f] : kernels_) absl::StrAppend(&known, known.empty() ? "" : ", ", name);
      return absl::NotFoundError(absl::StrCat("kernel '", kernel, "' is not on ", options_.name,
                                              " (it has: ", known.empty() ? "none" : known, ")"));
    }
    fn = it->second;
    model = cycle_model_;
  }
  // The kernels trust their refs (as on the card), so every buffer is checked before launch.
  for (size_t i = 0; i < args.buffers.size(); ++i) {
    const DeviceRef& ref = args.buffers[i];
    const std::string what = absl::StrCat("Run ", kernel, " buffer ", i);
    if (IsWholeBank(ref)) {
      if (absl::Status s = CheckRefRange(what.c_str(), ref, 0, 0, options_.num_banks); !s.ok()) {
        return s;
      }
    } else if (absl::Status s = Check(what.c_str(), ref, 0, ref.bytes); !s.ok()) {
      return s;
    }
  }

  BankCounters launch;
  const DeviceMemory mem = memory(&launch);
  const auto start = std::chrono::steady_clock::now();
  absl::Status status = fn(mem, args);
  const absl::Duration took =
      absl::FromChrono(std::chrono::steady_clock::now() - start);
  const double modelled = model ? model(launch) : 0.0;

  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int b = 0; b < kMaxBanks; ++b) {
      counters_.banks.bytes_read[b] += launch.bytes_read[b];
      counters_.banks.bytes_written[b] += launch.bytes_written[b];
    }
    ++counters_.launches;
    counters_.kernel_wall_seconds += absl::ToDoubleSeconds(took);
    counters_.modelled_kernel_seconds += modelled;
  }
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("kernel ", kernel, " on ", options_.name, ": ",
                                     status.message()));
  }
  if (took > timeout) {
    return absl::DeadlineExceededError(absl::StrCat(
        "kernel ", kernel, " on ", options_.name, " took ", absl::FormatDuration(took),
        ", over its timeout of ", absl::FormatDuration(timeout)));
  }
  return absl::OkStatus();
}

DeviceInfo EmulatedDevice::info() const {
  DeviceInfo info;
  info.name = options_.name;
  info.num_banks = options_.num_banks;
  info.bank_bytes = options_.bank_bytes;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, fn] : kernels_) info.kernels.push_back(name);
  return info;
}

DeviceCounters EmulatedDevice::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counters_;
}

void EmulatedDevice::ResetCounters() {
  std::lock_guard<std::mutex> lock(mu_);
  counters_ = DeviceCounters{};
}

}  // namespace accllm::fpga
