// Host vectors standing for the card's HBM banks in the kernel tests: Place copies a tensor
// into a bank at an odd offset (the kernels must not rely on alignment) and returns its ref.
#ifndef ACCLLM_TESTS_WORKERS_FPGA_KERNELS_FAKE_BANKS_H_
#define ACCLLM_TESTS_WORKERS_FPGA_KERNELS_FAKE_BANKS_H_

#include <cstdint>
#include <cstring>
#include <vector>

#include "quant/a8.h"                            // A8Vector
#include "workers/fpga/kernels/device_memory.h"  // DeviceMemory, DeviceRef, BankCounters

namespace accllm::fpga::testing {

class FakeBanks {
 public:
  FakeBanks() {
    for (int b = 0; b < kMaxBanks; ++b) banks_[b].assign(kGuard, 0xEE);
  }
  FakeBanks(const FakeBanks&) = delete;
  FakeBanks& operator=(const FakeBanks&) = delete;

  // Appends `bytes` bytes of `data` to bank `bank` after a 3-byte gap; an empty tensor is
  // absent (bank -1). Invalidates earlier memory() results.
  DeviceRef Place(int32_t bank, const void* data, uint64_t bytes) {
    if (bytes == 0) return DeviceRef{};
    std::vector<uint8_t>& v = banks_[bank];
    v.resize(v.size() + 3, 0xEE);
    DeviceRef ref{bank, v.size(), bytes};
    v.resize(v.size() + bytes);
    std::memcpy(v.data() + ref.offset, data, bytes);
    v.resize(v.size() + kGuard, 0xEE);  // reading past a tensor reads garbage, not the next one
    return ref;
  }
  template <typename T>
  DeviceRef Place(int32_t bank, const std::vector<T>& data) {
    return Place(bank, data.data(), data.size() * sizeof(T));
  }

  DeviceMemory memory() {
    DeviceMemory m;
    for (int b = 0; b < kMaxBanks; ++b) m.base[b] = banks_[b].data();
    m.counters = &counters;
    return m;
  }

  BankCounters counters;

 private:
  static constexpr size_t kGuard = 5;
  std::vector<uint8_t> banks_[kMaxBanks];
};

// A8 tokens as the kernels take them: values [tokens, cols] back to back, scales [tokens].
struct A8Batch {
  std::vector<int8_t> values;
  std::vector<float> scales;
};
inline A8Batch Concatenate(const std::vector<A8Vector>& xs) {
  A8Batch b;
  for (const A8Vector& v : xs) {
    b.values.insert(b.values.end(), v.values.begin(), v.values.end());
    b.scales.push_back(v.scale);
  }
  return b;
}

}  // namespace accllm::fpga::testing

#endif  // ACCLLM_TESTS_WORKERS_FPGA_KERNELS_FAKE_BANKS_H_
