// fp16 (raw IEEE half bits, as the model directory stores scales and zeros) -> float, by bit
// manipulation: no vendor half type. Exact (every half is a float), the same bits as
// model/dtype.h's HalfToFloat for every input, NaNs included.
#ifndef ACCLLM_WORKERS_FPGA_KERNELS_FP16_H_
#define ACCLLM_WORKERS_FPGA_KERNELS_FP16_H_

#include <cstdint>
#include <cstring>

namespace accllm::fpga {

inline float HalfBitsToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: shift the mantissa up to its leading one (at most 10 steps)
      uint32_t e = 0;
      while ((mant & 0x400) == 0) {
        mant <<= 1;
        ++e;
      }
      bits = sign | ((127 - 15 + 1 - e) << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

// Little-endian fp16 i of a byte array: no alignment needed (tensors sit at any offset).
inline float HalfAt(const uint8_t* bytes, int64_t i) {
  return HalfBitsToFloat(
      static_cast<uint16_t>(bytes[2 * i] | (static_cast<uint16_t>(bytes[2 * i + 1]) << 8)));
}

}  // namespace accllm::fpga

#endif  // ACCLLM_WORKERS_FPGA_KERNELS_FP16_H_
