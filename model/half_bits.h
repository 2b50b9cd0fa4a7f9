// IEEE half (fp16) bits <-> float by bit manipulation: exact half -> float, round to nearest
// even float -> half (overflow to inf, subnormals, NaN kept). Header-only plain C++ so that
// model/dtype.h's HalfToFloat/FloatToHalf and the FPGA kernels (workers/fpga/kernels/, which
// Vitis HLS compiles without the project's libraries) share one definition.
#ifndef ACCLLM_MODEL_HALF_BITS_H_
#define ACCLLM_MODEL_HALF_BITS_H_

#include <cmath>
#include <cstdint>
#include <cstring>

namespace accllm {

inline float HalfBitsToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalize
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while ((mant & 0x400) == 0);
      bits = sign | (static_cast<uint32_t>(127 - 15 - e) << 23) | ((mant & 0x3ff) << 13);
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

inline uint16_t FloatToHalfBits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  const uint16_t sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
  const uint32_t abs = bits & 0x7fffffff;
  if (abs >= 0x7f800000u) {  // inf or nan
    return sign | 0x7c00 | (abs > 0x7f800000u ? 0x200 : 0);
  }
  if (abs >= 0x477ff000u) return sign | 0x7c00;  // rounds to >= 65520: overflow to inf
  if (abs < 0x38800000u) {                       // below the smallest normal half
    // Subnormal half: value = mant * 2^-24. Round to nearest even via float math.
    const float a = std::fabs(f);
    const float scaled = a * 16777216.0f;  // 2^24
    const float r = std::nearbyint(scaled);
    return sign | static_cast<uint16_t>(r);
  }
  const uint32_t exp = (abs >> 23) - 127 + 15;
  uint32_t mant = abs & 0x7fffff;
  uint32_t half = (exp << 10) | (mant >> 13);
  const uint32_t rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) ++half;  // carries into exp correctly
  return sign | static_cast<uint16_t>(half);
}

}  // namespace accllm

#endif  // ACCLLM_MODEL_HALF_BITS_H_
