#include "workers/fpga/host/bank_allocator.h"

#include <algorithm>
#include <iterator>

#include "absl/strings/str_cat.h"  // absl::StrCat

namespace accllm::fpga {

BankAllocator::BankAllocator(int bank, uint64_t capacity)
    : bank_(bank), capacity_(capacity), free_bytes_(capacity) {
  if (capacity > 0) free_.emplace(0, capacity);
}

uint64_t BankAllocator::largest_free() const {
  uint64_t largest = 0;
  for (const auto& [offset, bytes] : free_) largest = std::max(largest, bytes);
  return largest;
}

absl::StatusOr<uint64_t> BankAllocator::Allocate(uint64_t bytes) {
  if (bytes == 0) {
    return absl::InvalidArgumentError(absl::StrCat("bank ", bank_, ": allocation of 0 bytes"));
  }
  if (bytes > capacity_) {
    return absl::ResourceExhaustedError(absl::StrCat("bank ", bank_, ": ", bytes,
                                                     " bytes requested, the bank holds ",
                                                     capacity_));
  }
  const uint64_t rounded = (bytes + kDeviceAlignment - 1) / kDeviceAlignment * kDeviceAlignment;
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second < rounded) continue;
    const uint64_t offset = it->first;
    const uint64_t rest = it->second - rounded;
    free_.erase(it);
    if (rest > 0) free_.emplace(offset + rounded, rest);
    used_.emplace(offset, rounded);
    free_bytes_ -= rounded;
    return offset;
  }
  return absl::ResourceExhaustedError(absl::StrCat(
      "bank ", bank_, " is full: ", bytes, " bytes requested (", rounded, " aligned), ",
      free_bytes_, " of ", capacity_, " bytes free, largest free range ", largest_free()));
}

absl::Status BankAllocator::Free(uint64_t offset) {
  auto it = used_.find(offset);
  if (it == used_.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("bank ", bank_, ": no allocation starts at offset ", offset));
  }
  uint64_t start = offset;
  uint64_t bytes = it->second;
  used_.erase(it);
  free_bytes_ += bytes;
  // Coalesce with the neighbours so a freed model leaves one range behind.
  auto next = free_.lower_bound(start);
  if (next != free_.end() && next->first == start + bytes) {
    bytes += next->second;
    next = free_.erase(next);
  }
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == start) {
      start = prev->first;
      bytes += prev->second;
      free_.erase(prev);
    }
  }
  free_.emplace(start, bytes);
  return absl::OkStatus();
}

absl::Status BankAllocator::CheckLive(uint64_t offset, uint64_t bytes) const {
  auto it = used_.upper_bound(offset);
  if (it != used_.begin()) {
    --it;
    const uint64_t end = it->first + it->second;
    if (offset >= it->first && offset <= end && bytes <= end - offset) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("bank ", bank_, ": range [", offset, ", +",
                                                 bytes, ") is not inside a live allocation"));
}

absl::Status CheckRefRange(const char* what, const DeviceRef& ref, uint64_t offset, uint64_t n,
                           int num_banks) {
  if (ref.bank < 0 || ref.bank >= num_banks) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": bank ", ref.bank,
                                                   " out of range (the card has ", num_banks,
                                                   " banks)"));
  }
  if (offset > ref.bytes || n > ref.bytes - offset) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": bank ", ref.bank, " ref at offset ", ref.offset, " of ", ref.bytes,
        " bytes cannot take ", n, " bytes at offset ", offset));
  }
  return absl::OkStatus();
}

}  // namespace accllm::fpga
