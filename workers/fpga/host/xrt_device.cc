// XrtDevice: XRT throws for every failure (no card, bad buffer, kernel error); each public
// method catches at its boundary so nothing escapes into the worker.
#include "workers/fpga/host/xrt_device.h"

#include <chrono>
#include <cmath>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"  // absl::StrCat
#include "workers/fpga/host/bank_allocator.h"

#ifdef ACCLLM_HAVE_XRT
#include "experimental/xrt_xclbin.h"  // xrt::xclbin
#include "xrt/xrt_bo.h"               // xrt::bo
#include "xrt/xrt_device.h"           // xrt::device
#include "xrt/xrt_kernel.h"           // xrt::kernel, xrt::run
#endif

namespace accllm::fpga {

#ifdef ACCLLM_HAVE_XRT

namespace {

// Runs `body`, turning whatever XRT throws into `code` with XRT's message after `what`.
template <typename Body>
absl::Status Guard(absl::StatusCode code, const std::string& what, Body&& body) {
  try {
    body();
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return absl::Status(code, absl::StrCat(what, ": XRT: ", e.what()));
  } catch (...) {
    return absl::Status(code, absl::StrCat(what, ": XRT: unknown error"));
  }
}

}  // namespace

struct XrtDevice::Impl {
  std::string name;
  xrt::device device;
  xrt::xclbin xclbin;
  std::map<std::string, xrt::kernel> kernels;
  std::vector<int> mem_index;  // memory group of HBM[bank]
  uint64_t bank_bytes = 0;

  mutable std::mutex mu;
  std::vector<BankAllocator> allocators;
  std::vector<std::optional<xrt::bo>> arenas;  // created on a bank's first use
  DeviceCounters counters;

  // The bank's arena, creating it on first use. Requires mu.
  absl::StatusOr<xrt::bo*> Arena(int bank) {
    if (!arenas[bank].has_value()) {
      absl::Status s = Guard(absl::StatusCode::kResourceExhausted,
                             absl::StrCat(name, ": allocating bank ", bank, " (HBM[", bank,
                                          "], ", bank_bytes, " bytes)"),
                             [&] {
                               arenas[bank].emplace(
                                   device, bank_bytes, xrt::bo::flags::normal,
                                   static_cast<xrt::memory_group>(mem_index[bank]));
                             });
      if (!s.ok()) return s;
    }
    return &*arenas[bank];
  }

  // Bounds and liveness, then the arena. Requires mu.
  absl::StatusOr<xrt::bo*> Checked(const char* what, const DeviceRef& ref, uint64_t offset,
                                   uint64_t n) {
    if (absl::Status s = CheckRefRange(what, ref, offset, n, static_cast<int>(arenas.size()));
        !s.ok()) {
      return s;
    }
    if (absl::Status s = allocators[ref.bank].CheckLive(ref.offset, ref.bytes); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": ", s.message()));
    }
    return Arena(ref.bank);
  }
};

XrtDevice::XrtDevice(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
XrtDevice::~XrtDevice() = default;

absl::StatusOr<std::unique_ptr<XrtDevice>> XrtDevice::Open(int index,
                                                           const std::string& xclbin_path,
                                                           const XclbinRequirements& req) {
  if (req.hbm_banks < 1 || req.hbm_banks > kMaxBanks) {
    return absl::InvalidArgumentError(
        absl::StrCat("XrtDevice: ", req.hbm_banks, " HBM banks requested (1..", kMaxBanks, ")"));
  }
  absl::StatusOr<XclbinSummary> summary = InspectXclbin(xclbin_path);
  if (!summary.ok()) return summary.status();
  if (absl::Status s = CheckXclbin(*summary, req); !s.ok()) return s;
  if (absl::Status s = CheckXrtEnvironment(); !s.ok()) return s;

  auto impl = std::make_unique<Impl>();
  impl->name = absl::StrCat("fpga:", index, " (", summary->platform, ")");
  const std::string where = absl::StrCat("fpga:", index);
  if (absl::Status s = Guard(absl::StatusCode::kUnavailable,
                             absl::StrCat(where, ": no card (or it cannot be opened)"),
                             [&] { impl->device = xrt::device(static_cast<unsigned int>(index)); });
      !s.ok()) {
    return s;
  }
  // One step, so the xclbin's uuid is never default-constructed or copied: xrt::uuid does
  // both inline through libuuid, which this target does not link.
  std::string step = absl::StrCat(where, ": loading ", xclbin_path);
  if (absl::Status s = Guard(absl::StatusCode::kUnavailable, "", [&] {
        impl->xclbin = xrt::xclbin(xclbin_path);
        const xrt::uuid uuid = impl->device.load_xclbin(impl->xclbin);
        for (const std::string& name : req.kernels) {
          step = absl::StrCat(where, ": opening kernel ", name);
          impl->kernels.emplace(name, xrt::kernel(impl->device, uuid, name));
        }
      });
      !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(step, s.message()));
  }
  impl->mem_index.assign(summary->hbm_mem_index.begin(),
                         summary->hbm_mem_index.begin() + req.hbm_banks);
  impl->bank_bytes = req.bank_bytes > 0 ? req.bank_bytes : summary->min_hbm_bank_bytes;
  for (int b = 0; b < req.hbm_banks; ++b) impl->allocators.emplace_back(b, impl->bank_bytes);
  impl->arenas.resize(req.hbm_banks);
  return std::unique_ptr<XrtDevice>(new XrtDevice(std::move(impl)));
}

absl::StatusOr<DeviceRef> XrtDevice::Allocate(int bank, uint64_t bytes) {
  if (bank < 0 || bank >= num_banks()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Allocate: bank ", bank, " out of range (the card has ", num_banks(), " banks)"));
  }
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (absl::StatusOr<xrt::bo*> arena = impl_->Arena(bank); !arena.ok()) return arena.status();
  absl::StatusOr<uint64_t> offset = impl_->allocators[bank].Allocate(bytes);
  if (!offset.ok()) return offset.status();
  return DeviceRef{bank, *offset, bytes};
}

absl::Status XrtDevice::Free(const DeviceRef& ref) {
  if (absl::Status s = CheckRefRange("Free", ref, 0, 0, num_banks()); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->allocators[ref.bank].Free(ref.offset);
}

absl::Status XrtDevice::Write(const DeviceRef& ref, uint64_t offset, const void* src,
                              uint64_t n) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  absl::StatusOr<xrt::bo*> bo = impl_->Checked("Write", ref, offset, n);
  if (!bo.ok()) return bo.status();
  if (absl::Status s = Guard(absl::StatusCode::kInternal, "Write",
                             [&] { if (n > 0) (*bo)->write(src, n, ref.offset + offset); });
      !s.ok()) {
    return s;
  }
  impl_->counters.host_to_device_bytes += n;
  return absl::OkStatus();
}

absl::Status XrtDevice::Read(const DeviceRef& ref, uint64_t offset, void* dst, uint64_t n) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  absl::StatusOr<xrt::bo*> bo = impl_->Checked("Read", ref, offset, n);
  if (!bo.ok()) return bo.status();
  if (absl::Status s = Guard(absl::StatusCode::kInternal, "Read",
                             [&] { if (n > 0) (*bo)->read(dst, n, ref.offset + offset); });
      !s.ok()) {
    return s;
  }
  impl_->counters.device_to_host_bytes += n;
  return absl::OkStatus();
}

absl::Status XrtDevice::Sync(const DeviceRef& ref, Direction direction) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  absl::StatusOr<xrt::bo*> bo = impl_->Checked("Sync", ref, 0, ref.bytes);
  if (!bo.ok()) return bo.status();
  return Guard(absl::StatusCode::kUnavailable, "Sync", [&] {
    (*bo)->sync(direction == Direction::kToDevice ? XCL_BO_SYNC_BO_TO_DEVICE
                                                  : XCL_BO_SYNC_BO_FROM_DEVICE,
                ref.bytes, ref.offset);
  });
}

absl::Status XrtDevice::Copy(const DeviceRef& dst, uint64_t dst_offset, const DeviceRef& src,
                             uint64_t src_offset, uint64_t n) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  absl::StatusOr<xrt::bo*> to = impl_->Checked("Copy (destination)", dst, dst_offset, n);
  if (!to.ok()) return to.status();
  absl::StatusOr<xrt::bo*> from = impl_->Checked("Copy (source)", src, src_offset, n);
  if (!from.ok()) return from.status();
  if (absl::Status s = Guard(absl::StatusCode::kUnavailable, "Copy",
                             [&] {
                               if (n > 0) {
                                 (*to)->copy(**from, n, src.offset + src_offset,
                                             dst.offset + dst_offset);
                               }
                             });
      !s.ok()) {
    return s;
  }
  impl_->counters.device_copy_bytes += n;
  return absl::OkStatus();
}

absl::Status XrtDevice::Run(const std::string& kernel, const KernelArgs& args,
                            absl::Duration timeout) {
  auto it = impl_->kernels.find(kernel);
  if (it == impl_->kernels.end()) {
    return absl::NotFoundError(
        absl::StrCat("kernel '", kernel, "' was not opened on ", impl_->name));
  }
  const std::string what = absl::StrCat("Run ", kernel, " on ", impl_->name);
  std::vector<xrt::bo> buffers;  // sub-buffers must outlive the run
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (size_t i = 0; i < args.buffers.size(); ++i) {
      const DeviceRef& ref = args.buffers[i];
      const std::string arg = absl::StrCat(what, " buffer ", i);
      absl::StatusOr<xrt::bo*> arena;
      if (IsWholeBank(ref)) {
        if (absl::Status s = CheckRefRange(arg.c_str(), ref, 0, 0, num_banks()); !s.ok()) {
          return s;
        }
        arena = impl_->Arena(ref.bank);
      } else {
        arena = impl_->Checked(arg.c_str(), ref, 0, ref.bytes);
      }
      if (!arena.ok()) return arena.status();
      // A sub-buffer at the ref's offset: XRT then passes its device address to the port.
      if (absl::Status s = Guard(absl::StatusCode::kInternal, arg,
                                 [&] {
                                   buffers.push_back(IsWholeBank(ref)
                                                         ? **arena
                                                         : xrt::bo(**arena, ref.bytes,
                                                                   ref.offset));
                                 });
          !s.ok()) {
        return s;
      }
    }
  }
  // wait(0) waits forever, so a finite timeout is at least 1 ms.
  const int64_t ms = timeout == absl::InfiniteDuration()
                         ? 0
                         : std::max<int64_t>(1, absl::ToInt64Milliseconds(absl::Ceil(
                                                   timeout, absl::Milliseconds(1))));
  const auto start = std::chrono::steady_clock::now();
  ert_cmd_state state = ERT_CMD_STATE_NEW;
  absl::Status launched = Guard(absl::StatusCode::kUnavailable, what, [&] {
    xrt::run run(it->second);
    for (size_t i = 0; i < buffers.size(); ++i) run.set_arg(static_cast<int>(i), buffers[i]);
    for (size_t j = 0; j < args.scalars.size(); ++j) {
      run.set_arg(static_cast<int>(buffers.size() + j), args.scalars[j]);
    }
    run.start();
    state = run.wait(std::chrono::milliseconds(ms));
    if (state == ERT_CMD_STATE_TIMEOUT) run.abort();
  });
  if (!launched.ok()) return launched;
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    ++impl_->counters.launches;
    impl_->counters.kernel_wall_seconds += took;
  }
  if (state == ERT_CMD_STATE_TIMEOUT) {
    return absl::DeadlineExceededError(absl::StrCat(what, ": no completion within ",
                                                    absl::FormatDuration(timeout),
                                                    "; the run was aborted"));
  }
  if (state != ERT_CMD_STATE_COMPLETED) {
    return absl::InternalError(absl::StrCat(what, ": the run ended in XRT state ",
                                            static_cast<int>(state)));
  }
  return absl::OkStatus();
}

DeviceInfo XrtDevice::info() const {
  DeviceInfo info;
  info.name = impl_->name;
  info.num_banks = num_banks();
  info.bank_bytes = impl_->bank_bytes;
  for (const auto& [name, kernel] : impl_->kernels) info.kernels.push_back(name);
  return info;
}

DeviceCounters XrtDevice::counters() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->counters;
}

void XrtDevice::ResetCounters() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->counters = DeviceCounters{};
}

int XrtDevice::num_banks() const { return static_cast<int>(impl_->allocators.size()); }

#else  // !ACCLLM_HAVE_XRT: the interface links, every entry point says why it cannot work.

struct XrtDevice::Impl {};

XrtDevice::XrtDevice(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
XrtDevice::~XrtDevice() = default;

absl::StatusOr<std::unique_ptr<XrtDevice>> XrtDevice::Open(int index, const std::string&,
                                                           const XclbinRequirements&) {
  return absl::UnimplementedError(
      absl::StrCat("this build has no XRT (card ", index, " not opened)"));
}

namespace {
absl::Status NoXrt() { return absl::UnimplementedError("this build has no XRT"); }
}  // namespace

absl::StatusOr<DeviceRef> XrtDevice::Allocate(int, uint64_t) { return NoXrt(); }
absl::Status XrtDevice::Free(const DeviceRef&) { return NoXrt(); }
absl::Status XrtDevice::Write(const DeviceRef&, uint64_t, const void*, uint64_t) {
  return NoXrt();
}
absl::Status XrtDevice::Read(const DeviceRef&, uint64_t, void*, uint64_t) { return NoXrt(); }
absl::Status XrtDevice::Sync(const DeviceRef&, Direction) { return NoXrt(); }
absl::Status XrtDevice::Copy(const DeviceRef&, uint64_t, const DeviceRef&, uint64_t, uint64_t) {
  return NoXrt();
}
absl::Status XrtDevice::Run(const std::string&, const KernelArgs&, absl::Duration) {
  return NoXrt();
}
DeviceInfo XrtDevice::info() const { return DeviceInfo{"fpga (no XRT)", 0, 0, {}}; }
DeviceCounters XrtDevice::counters() const { return {}; }
void XrtDevice::ResetCounters() {}
int XrtDevice::num_banks() const { return 0; }

#endif  // ACCLLM_HAVE_XRT

absl::Status ProbeCard(int index, const std::string& xclbin, const XclbinRequirements& req) {
  absl::StatusOr<std::unique_ptr<XrtDevice>> device = XrtDevice::Open(index, xclbin, req);
  return device.status();
}

}  // namespace accllm::fpga
