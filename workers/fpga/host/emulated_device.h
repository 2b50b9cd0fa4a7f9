// The emulated card: the project's own stand-in for a U280, NOT Xilinx's sw_emu/hw_emu (those
// need Vitis and XCL_EMULATION_MODE). Banks are host memory, kernels are the same C++
// functions the HLS build compiles (workers/fpga/kernels/), called through a DeviceMemory whose
// base[bank] points at each bank, so the bytes each bank moves are counted as on the card.
//
// Each bank is one mmap(MAP_NORESERVE) of its full size: virtual only until touched (a
// 32 × 256 MiB card costs no 8 GiB up front), and its base never moves, so offsets and base
// pointers stay valid across Allocate calls and while a kernel runs.
#ifndef ACCLLM_WORKERS_FPGA_HOST_EMULATED_DEVICE_H_
#define ACCLLM_WORKERS_FPGA_HOST_EMULATED_DEVICE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "workers/fpga/host/bank_allocator.h"
#include "workers/fpga/host/device.h"
#include "workers/fpga/kernels/device_memory.h"

namespace accllm::fpga {

struct EmulatedDeviceOptions {
  std::string name = "fpga-emu";
  int num_banks = kMaxBanks;
  uint64_t bank_bytes = uint64_t{256} << 20;  // a U280 HBM pseudo-channel
};

class EmulatedDevice final : public Device {
 public:
  // What a kernel is on the emulated card: it reads and writes the banks through `mem`
  // (mem.counters counts this launch) and gets the launch's buffers and scalars.
  using KernelFn = std::function<absl::Status(const DeviceMemory& mem, const KernelArgs& args)>;
  // Seconds the card would take for a launch that moved these bytes (the cost model).
  using CycleModel = std::function<double(const BankCounters& launch)>;

  // InvalidArgument for a bad shape; ResourceExhausted when the address space is refused.
  static absl::StatusOr<std::unique_ptr<EmulatedDevice>> Create(
      const EmulatedDeviceOptions& options = {});
  ~EmulatedDevice() override;

  EmulatedDevice(const EmulatedDevice&) = delete;
  EmulatedDevice& operator=(const EmulatedDevice&) = delete;

  void RegisterKernel(std::string name, KernelFn fn);
  void SetCycleModel(CycleModel model);

  absl::StatusOr<DeviceRef> Allocate(int bank, uint64_t bytes) override;
  absl::Status Free(const DeviceRef& ref) override;
  absl::Status Write(const DeviceRef& ref, uint64_t offset, const void* src,
                     uint64_t n) override;
  absl::Status Read(const DeviceRef& ref, uint64_t offset, void* dst, uint64_t n) override;
  absl::Status Sync(const DeviceRef& ref, Direction direction) override;
  absl::Status Copy(const DeviceRef& dst, uint64_t dst_offset, const DeviceRef& src,
                    uint64_t src_offset, uint64_t n) override;
  // Runs the kernel synchronously on the calling thread, then reports DeadlineExceeded if it
  // took longer than `timeout`. A kernel writing into the banks cannot be abandoned on another
  // thread safely (it would keep writing while the caller reuses the memory), and a real
  // card's abort does not undo writes either; the counters keep what the launch moved.
  absl::Status Run(const std::string& kernel, const KernelArgs& args,
                   absl::Duration timeout) override;

  DeviceInfo info() const override;
  DeviceCounters counters() const override;
  void ResetCounters() override;
  int num_banks() const override { return options_.num_banks; }

  // The banks as kernels see them (tests, and a backend that checks a kernel's view).
  DeviceMemory memory(BankCounters* counters) const;

 private:
  explicit EmulatedDevice(const EmulatedDeviceOptions& options);
  // OK when `ref` + [offset, offset + n) is inside the card and a live allocation.
  absl::Status Check(const char* what, const DeviceRef& ref, uint64_t offset, uint64_t n) const;

  EmulatedDeviceOptions options_;
  std::vector<uint8_t*> base_;  // one mapping per bank
  mutable std::mutex mu_;       // allocators, kernels, counters
  std::vector<BankAllocator> banks_;
  std::map<std::string, KernelFn> kernels_;
  CycleModel cycle_model_;
  DeviceCounters counters_;
};

}  // namespace accllm::fpga

#endif  // ACCLLM_WORKERS_FPGA_HOST_EMULATED_DEVICE_H_
