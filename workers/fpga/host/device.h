// The host's view of one FPGA card: banks of device memory (HBM pseudo-channels), transfers
// between host and card, and kernel launches. Two implementations: XrtDevice (a real card via
// XRT's native API) and EmulatedDevice (banks in host memory, kernels as C++ functions). The
// FPGA backend only talks to this interface, so everything above the card runs on either.
//
// Contract shared by both implementations:
//   - Errors are absl::Status; nothing throws across this interface.
//   - A DeviceRef names (bank, offset, bytes); every ref, offset and length is bounds-checked
//     against the bank and the allocation: a bad one is InvalidArgument, never memory access.
//   - Write/Read move bytes between host memory and the card's host-side mirror; Sync moves
//     the mirror to or from the card. On the emulated card Sync is a (checked) no-op, but code
//     must call it as on the real card: Write → Sync(kToDevice) → Run → Sync(kFromDevice) → Read.
//   - Copy is device to device (KV page copies) and needs no Sync.
//   - Not thread-safe for concurrent Run calls; the backend drives one device from one thread.
#ifndef ACCLLM_WORKERS_FPGA_HOST_DEVICE_H_
#define ACCLLM_WORKERS_FPGA_HOST_DEVICE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"      // absl::Status
#include "absl/status/statusor.h"    // absl::StatusOr
#include "absl/time/time.h"          // absl::Duration
#include "workers/fpga/kernels/device_memory.h"  // DeviceRef, BankCounters, kMaxBanks

namespace accllm::fpga {

// Allocations start on this boundary (a page: DMA- and AXI-burst-friendly on the card).
inline constexpr uint64_t kDeviceAlignment = 4096;

enum class Direction { kToDevice, kFromDevice };

// A kernel launch's arguments, in the kernel top's argument order: first every buffer (one
// m_axi port each, e.g. gmem0..gmem31 then the command buffer), then every scalar.
// A buffer ref with bytes == 0 and offset == 0 means "the whole bank from its base" (what a
// per-bank m_axi port of the decoder top takes).
struct KernelArgs {
  std::vector<DeviceRef> buffers;
  std::vector<uint64_t> scalars;
};

struct DeviceInfo {
  std::string name;                  // "fpga-emu" or "fpga:0 (xilinx_u280_...)"
  int num_banks = 0;
  uint64_t bank_bytes = 0;           // capacity of each bank
  std::vector<std::string> kernels;  // kernels Run accepts
};

struct DeviceCounters {
  BankCounters banks;                   // bytes the kernels read/wrote per bank (emulated card)
  uint64_t host_to_device_bytes = 0;    // Write
  uint64_t device_to_host_bytes = 0;    // Read
  uint64_t device_copy_bytes = 0;       // Copy
  uint64_t launches = 0;                // Run calls that started a kernel
  double kernel_wall_seconds = 0;       // measured time inside Run
  double modelled_kernel_seconds = 0;   // from the cycle model (emulated card), else 0
};

class Device {
 public:
  virtual ~Device() = default;

  // `bytes` rounded up to kDeviceAlignment; ResourceExhausted (naming the bank, the request
  // and what is free) when the bank cannot hold it; InvalidArgument for a bank out of range.
  virtual absl::StatusOr<DeviceRef> Allocate(int bank, uint64_t bytes) = 0;
  // Returns an allocation to its bank (model unload). The ref must be one Allocate returned.
  virtual absl::Status Free(const DeviceRef& ref) = 0;

  virtual absl::Status Write(const DeviceRef& ref, uint64_t offset, const void* src,
                             uint64_t n) = 0;
  virtual absl::Status Read(const DeviceRef& ref, uint64_t offset, void* dst, uint64_t n) = 0;
  // Whole allocation.
  virtual absl::Status Sync(const DeviceRef& ref, Direction direction) = 0;
  virtual absl::Status Copy(const DeviceRef& dst, uint64_t dst_offset, const DeviceRef& src,
                            uint64_t src_offset, uint64_t n) = 0;

  // Runs `kernel` to completion. NotFound for an unknown kernel, InvalidArgument for a bad
  // buffer ref, DeadlineExceeded when it takes longer than `timeout`.
  virtual absl::Status Run(const std::string& kernel, const KernelArgs& args,
                           absl::Duration timeout) = 0;

  virtual DeviceInfo info() const = 0;
  virtual DeviceCounters counters() const = 0;
  virtual void ResetCounters() = 0;
  virtual int num_banks() const = 0;
};

}  // namespace accllm::fpga

#endif  // ACCLLM_WORKERS_FPGA_HOST_DEVICE_H_
