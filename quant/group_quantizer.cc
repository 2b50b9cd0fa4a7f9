#include "quant/group_quantizer.h"

#include <algorithm>  // std::clamp, std::max, std::min
#include <cmath>      // std::fabs, std::isfinite, std::nearbyint
#include <limits>     // std::numeric_limits

#include "model/dtype.h"  // FloatToHalf, HalfToFloat

namespace accllm {
namespace {

constexpr float kMaxHalf = 65504.0f;
constexpr float kMinHalf = 5.9604645e-8f;  // smallest positive fp16 (subnormal)

// A positive, finite fp16 scale (a zero or overflowing scale would break decoding).
float PositiveHalfScale(float scale) {
  if (!(scale > 0.0f)) return kMinHalf;
  return std::clamp(RoundToHalf(std::min(scale, kMaxHalf)), kMinHalf, kMaxHalf);
}

}  // namespace

float RoundToHalf(float v) { return HalfToFloat(FloatToHalf(v)); }

GroupParams UniformParams(float lo, float hi, int bits, ZeroPoint zero_point) {
  const float maxq = static_cast<float>(MaxCode(bits));
  GroupParams p;
  if (zero_point == ZeroPoint::kInteger) {
    if (!(hi > lo)) {
      // Constant group: code 0 (zero 1) decodes to -scale, code 1 (zero 0) to +scale.
      const float mag = std::fabs(lo);
      p.scale = PositiveHalfScale(mag > 0.0f ? mag : 1.0f);
      p.zero = lo < 0.0f ? 1.0f : 0.0f;
      return p;
    }
    lo = std::min(lo, 0.0f);  // with 0 inside the range, -lo / scale lies in [0, maxq]
    hi = std::max(hi, 0.0f);
    p.scale = PositiveHalfScale((hi - lo) / maxq);
    p.zero = std::clamp(std::nearbyint(-lo / p.scale), 0.0f, maxq);
    return p;
  }
  if (!(hi > lo)) {
    // Constant group: code 0 decodes to scale * (0 - zero) = lo.
    const float mag = std::fabs(lo);
    p.scale = PositiveHalfScale(mag > 0.0f ? mag : 1.0f);
    p.zero = RoundToHalf(-lo / p.scale);
    return p;
  }
  p.scale = PositiveHalfScale((hi - lo) / maxq);
  p.zero = RoundToHalf(std::clamp(-lo / p.scale, -kMaxHalf, kMaxHalf));
  return p;
}

GroupParams Pow2Params(float max_abs, int bits) {
  GroupParams p;
  p.scale = PositiveHalfScale(max_abs / static_cast<float>(1 << Pow2MaxExponent(bits)));
  return p;
}

uint8_t QuantizeToCode(float w, const GroupParams& p, WeightScheme scheme, int bits) {
  if (scheme == WeightScheme::kUniform) {
    const float q = std::nearbyint(w / p.scale + p.zero);
    return static_cast<uint8_t>(std::clamp(q, 0.0f, static_cast<float>(MaxCode(bits))));
  }
  const float v = std::fabs(w) / p.scale;
  const int max_k = Pow2MaxExponent(bits);
  int best_k = 0;
  float best = std::numeric_limits<float>::infinity();
  for (int k = 0; k <= max_k; ++k) {
    const float d = std::fabs(v - static_cast<float>(1 << k));
    if (d < best) {
      best = d;
      best_k = k;
    }
  }
  const uint8_t sign = w < 0.0f ? 1 : 0;
  return static_cast<uint8_t>((sign << (bits - 1)) | best_k);
}

int32_t CodeToInt(uint8_t code, WeightScheme scheme, int bits) {
  if (scheme == WeightScheme::kUniform) return code;
  const int32_t mag = int32_t{1} << (code & Pow2MaxExponent(bits));
  return (code >> (bits - 1)) & 1 ? -mag : mag;
}

float DecodeCode(uint8_t code, const GroupParams& p, WeightScheme scheme, int bits) {
  if (scheme == WeightScheme::kUniform) return p.scale * (static_cast<float>(code) - p.zero);
  return p.scale * static_cast<float>(CodeToInt(code, scheme, bits));
}

std::vector<float> DefaultClipRatios() {
  return {1.0f, 0.95f, 0.9f, 0.85f, 0.8f, 0.75f, 0.7f, 0.65f, 0.6f, 0.55f};
}

GroupParams ChooseGroupParams(std::span<const float> w, std::span<const uint8_t> keep,
                              std::span<const float> importance, WeightScheme scheme, int bits,
                              std::span<const float> clip_ratios, ZeroPoint zero_point) {
  float lo = std::numeric_limits<float>::infinity();
  float hi = -std::numeric_limits<float>::infinity();
  bool any = false;
  for (size_t i = 0; i < w.size(); ++i) {
    if (!keep.empty() && !keep[i]) continue;
    lo = std::min(lo, w[i]);
    hi = std::max(hi, w[i]);
    any = true;
  }
  if (!any) lo = hi = 0.0f;
  const float max_abs = std::max(std::fabs(lo), std::fabs(hi));
  auto params_for = [&](float ratio) {
    return scheme == WeightScheme::kUniform
               ? UniformParams(lo * ratio, hi * ratio, bits, zero_point)
               : Pow2Params(max_abs * ratio, bits);
  };
  if (clip_ratios.size() <= 1 || !any) {
    return params_for(clip_ratios.empty() ? 1.0f : clip_ratios[0]);
  }
  GroupParams best_params;
  double best_err = std::numeric_limits<double>::infinity();
  for (float ratio : clip_ratios) {
    const GroupParams p = params_for(ratio);
    double err = 0.0;
    for (size_t i = 0; i < w.size(); ++i) {
      if (!keep.empty() && !keep[i]) continue;
      const double d = w[i] - DecodeCode(QuantizeToCode(w[i], p, scheme, bits), p, scheme, bits);
      err += (importance.empty() ? 1.0 : importance[i]) * d * d;
    }
    if (err < best_err) {
      best_err = err;
      best_params = p;
    }
  }
  return best_params;
}

}  // namespace accllm
