// Book-keeping of one bank's allocations, shared by both devices: first-fit over a free list,
// 4 KiB aligned, and the bounds check every transfer goes through. It never touches memory,
// so the same code guards host-memory banks (emulated card) and HBM buffers (XRT).
#ifndef ACCLLM_WORKERS_FPGA_HOST_BANK_ALLOCATOR_H_
#define ACCLLM_WORKERS_FPGA_HOST_BANK_ALLOCATOR_H_

#include <cstdint>
#include <map>

#include "absl/status/status.h"    // absl::Status
#include "absl/status/statusor.h"  // absl::StatusOr
#include "workers/fpga/host/device.h"

namespace accllm::fpga {

class BankAllocator {
 public:
  BankAllocator(int bank, uint64_t capacity);

  // Offset of a new allocation of `bytes` rounded up to kDeviceAlignment.
  absl::StatusOr<uint64_t> Allocate(uint64_t bytes);
  // `offset` must be the start of a live allocation.
  absl::Status Free(uint64_t offset);
  // OK when [offset, offset + bytes) lies inside one live allocation (a sub-range of it is
  // fine: a KV page inside the pool).
  absl::Status CheckLive(uint64_t offset, uint64_t bytes) const;

  uint64_t capacity() const { return capacity_; }
  uint64_t free_bytes() const { return free_bytes_; }
  uint64_t largest_free() const;

 private:
  int bank_;
  uint64_t capacity_;
  uint64_t free_bytes_;
  std::map<uint64_t, uint64_t> free_;  // offset → bytes, coalesced
  std::map<uint64_t, uint64_t> used_;  // offset → bytes
};

// InvalidArgument unless `ref` names a bank in [0, num_banks) and [offset, offset + n) lies
// within ref (overflow-safe). `what` names the operation in the message.
absl::Status CheckRefRange(const char* what, const DeviceRef& ref, uint64_t offset, uint64_t n,
                           int num_banks);

// KernelArgs' "whole bank" buffer: the bank's base, as a per-bank m_axi port takes it.
inline DeviceRef WholeBank(int bank) { return DeviceRef{bank, 0, 0}; }
inline bool IsWholeBank(const DeviceRef& ref) { return ref.offset == 0 && ref.bytes == 0; }

}  // namespace accllm::fpga

#endif  // ACCLLM_WORKERS_FPGA_HOST_BANK_ALLOCATOR_H_
