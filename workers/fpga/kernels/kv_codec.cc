#include "workers/fpga/kernels/kv_codec.h"

#include <algorithm>  // std::min, std::max, std::clamp
#include <cmath>      // std::fabs, std::nearbyint, std::sqrt
#include <cstring>    // std::memcpy

#include "workers/fpga/kernels/fp16.h"  // HalfBitsToFloat
#include "workers/fpga/kernels/hls.h"   // ACCLLM_HLS

namespace accllm::fpga {
namespace {

constexpr float kMaxHalf = 65504.0f;
constexpr float kMinHalf = 5.9604645e-8f;  // smallest positive fp16 (subnormal)

float RoundToHalf(float v) { return HalfBitsToFloat(FloatToHalfBits(v)); }

// group_quantizer.cc's PositiveHalfScale.
float PositiveHalfScale(float scale) {
  if (!(scale > 0.0f)) return kMinHalf;
  return std::clamp(RoundToHalf(std::min(scale, kMaxHalf)), kMinHalf, kMaxHalf);
}

}  // namespace

void QuantizeKvVector(const float* x, int64_t n, int32_t bits, uint8_t* codes, uint16_t* scale,
                      uint16_t* zero) {
  float lo = n == 0 ? 0.0f : x[0];
  float hi = lo;
  for (int64_t i = 0; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  const float maxq = static_cast<float>((1 << bits) - 1);
  float s, z;
  if (!(hi > lo)) {  // constant vector: code 0 decodes to lo
    const float mag = std::fabs(lo);
    s = PositiveHalfScale(mag > 0.0f ? mag : 1.0f);
    z = RoundToHalf(-lo / s);
  } else {
    s = PositiveHalfScale((hi - lo) / maxq);
    z = RoundToHalf(std::clamp(-lo / s, -kMaxHalf, kMaxHalf));
  }
  const int64_t cb = KvCodeBytes(n, bits);
  for (int64_t i = 0; i < cb; ++i) codes[i] = 0;
  for (int64_t i = 0; i < n; ++i) {
    ACCLLM_HLS(PIPELINE II = 1)
    const float q = std::nearbyint(x[i] / s + z);
    const uint32_t c = static_cast<uint8_t>(std::clamp(q, 0.0f, maxq));
    if (bits == 8) {
      codes[i] = static_cast<uint8_t>(c);
    } else {
      codes[i / 2] |= static_cast<uint8_t>((i & 1) ? c << 4 : c);
    }
  }
  *scale = FloatToHalfBits(s);
  *zero = FloatToHalfBits(z);
}

void DequantizeKvVector(const uint8_t* codes, uint16_t scale, uint16_t zero, int32_t bits,
                        int64_t n, float* out) {
  const float s = HalfBitsToFloat(scale);
  const float z = HalfBitsToFloat(zero);
  for (int64_t i = 0; i < n; ++i) {
    ACCLLM_HLS(PIPELINE II = 1)
    out[i] = s * (static_cast<float>(KvCodeAt(codes, i, bits)) - z);
  }
}

}  // namespace accllm::fpga
