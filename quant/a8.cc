#include "quant/a8.h"

#include <algorithm>  // std::clamp, std::max
#include <cmath>      // std::fabs, std::nearbyint

namespace accllm {

A8Vector QuantizeA8(std::span<const float> x) {
  A8Vector q;
  q.values.assign(x.size(), 0);
  float max_abs = 0.0f;
  for (float v : x) max_abs = std::max(max_abs, std::fabs(v));
  if (!(max_abs > 0.0f)) return q;
  q.scale = max_abs / 127.0f;
  const float inv = 127.0f / max_abs;
  for (size_t i = 0; i < x.size(); ++i) {
    q.values[i] = static_cast<int8_t>(std::clamp(std::nearbyint(x[i] * inv), -127.0f, 127.0f));
  }
  return q;
}

void DequantizeA8(const A8Vector& q, std::span<float> out) {
  for (size_t i = 0; i < out.size(); ++i) out[i] = q.scale * static_cast<float>(q.values[i]);
}

std::vector<int32_t> A8GroupSums(std::span<const int8_t> values, int group) {
  std::vector<int32_t> sums((values.size() + group - 1) / group, 0);
  for (size_t i = 0; i < values.size(); ++i) sums[i / group] += values[i];
  return sums;
}

}  // namespace accllm
