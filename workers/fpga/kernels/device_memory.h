// How the kernels see the card's memory: HBM pseudo-channels ("banks"), each an AXI master
// port of the kernel top. A tensor on the card is a DeviceRef (bank, byte offset, bytes); the
// kernels read and write through a DeviceMemory, which in C simulation also counts the bytes
// each bank moved (the emulated card's counters, compared with the cost model).
// Plain C++ (no vendor headers): g++ compiles it for C simulation, Vitis HLS for the card.
#ifndef ACCLLM_WORKERS_FPGA_KERNELS_DEVICE_MEMORY_H_
#define ACCLLM_WORKERS_FPGA_KERNELS_DEVICE_MEMORY_H_

#include <cstdint>

namespace accllm::fpga {

// The U280 has 32 HBM pseudo-channels; the model's tensors and the KV pool are placed on them.
inline constexpr int kMaxBanks = 32;

struct DeviceRef {
  int32_t bank = -1;    // -1: absent
  uint64_t offset = 0;  // bytes from the bank's base
  uint64_t bytes = 0;

  bool present() const { return bank >= 0; }
};

struct BankCounters {
  uint64_t bytes_read[kMaxBanks] = {};
  uint64_t bytes_written[kMaxBanks] = {};

  uint64_t total_read() const {
    uint64_t t = 0;
    for (uint64_t b : bytes_read) t += b;
    return t;
  }
  uint64_t total_written() const {
    uint64_t t = 0;
    for (uint64_t b : bytes_written) t += b;
    return t;
  }
};

// The kernel top's view of the banks: base pointers (one m_axi port each) and the counters.
struct DeviceMemory {
  uint8_t* base[kMaxBanks] = {};
  BankCounters* counters = nullptr;  // null: not counted

  template <typename T>
  const T* Read(const DeviceRef& ref) const {
    if (counters != nullptr) counters->bytes_read[ref.bank] += ref.bytes;
    return reinterpret_cast<const T*>(base[ref.bank] + ref.offset);
  }
  // A part of a tensor: `bytes` from `offset` within ref.
  template <typename T>
  const T* ReadPart(const DeviceRef& ref, uint64_t offset, uint64_t bytes) const {
    if (counters != nullptr) counters->bytes_read[ref.bank] += bytes;
    return reinterpret_cast<const T*>(base[ref.bank] + ref.offset + offset);
  }
  template <typename T>
  T* WritePart(const DeviceRef& ref, uint64_t offset, uint64_t bytes) const {
    if (counters != nullptr) counters->bytes_written[ref.bank] += bytes;
    return reinterpret_cast<T*>(base[ref.bank] + ref.offset + offset);
  }
};

}  // namespace accllm::fpga

#endif  // ACCLLM_WORKERS_FPGA_KERNELS_DEVICE_MEMORY_H_
