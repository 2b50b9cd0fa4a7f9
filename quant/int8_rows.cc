#include "quant/int8_rows.h"

#include <algorithm>  // std::clamp, std::max
#include <cmath>      // std::fabs, std::nearbyint

#include "model/dtype.h"  // FloatToHalf, HalfToFloat

namespace accllm {

Int8Rows QuantizeInt8Rows(std::span<const float> w, int64_t rows, int64_t cols) {
  Int8Rows q;
  q.values.resize(static_cast<size_t>(rows * cols));
  q.scales.resize(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = w.data() + r * cols;
    float max_abs = 0.0f;
    for (int64_t c = 0; c < cols; ++c) max_abs = std::max(max_abs, std::fabs(row[c]));
    // The stored (fp16) scale is the one codes are computed with, so readers decode exactly.
    uint16_t bits = FloatToHalf(max_abs > 0.0f ? max_abs / 127.0f : 1.0f);
    if (HalfToFloat(bits) <= 0.0f) bits = FloatToHalf(6.0e-8f);  // underflow: smallest subnormal
    q.scales[r] = bits;
    const float inv = 1.0f / HalfToFloat(bits);
    for (int64_t c = 0; c < cols; ++c) {
      // nearbyint in the default rounding mode rounds half to even.
      const float v = std::clamp(std::nearbyint(row[c] * inv), -127.0f, 127.0f);
      q.values[r * cols + c] = static_cast<int8_t>(v);
    }
  }
  return q;
}

std::vector<float> DequantizeInt8Rows(const Int8Rows& q, int64_t rows, int64_t cols) {
  std::vector<float> w(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) {
    const float s = HalfToFloat(q.scales[r]);
    for (int64_t c = 0; c < cols; ++c) w[r * cols + c] = s * q.values[r * cols + c];
  }
  return w;
}

}  // namespace accllm
