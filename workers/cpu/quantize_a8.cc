// Compiled once per SIMD target by Highway (foreach_target re-includes this file).
#include "workers/cpu/quantize_a8.h"

#include <algorithm>
#include <cmath>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "workers/cpu/quantize_a8.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"         // HWY_EXPORT, HWY_DYNAMIC_DISPATCH

HWY_BEFORE_NAMESPACE();
namespace accllm {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

float QuantizeRow(const float* x, int64_t n, int8_t* out) {
  const hn::ScalableTag<float> df;
  const hn::Rebind<int32_t, decltype(df)> di;
  const hn::Rebind<int8_t, decltype(df)> d8;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  auto vmax = hn::Zero(df);
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes) vmax = hn::Max(vmax, hn::Abs(hn::LoadU(df, x + i)));
  float max_abs = hn::GetLane(hn::MaxOfLanes(df, vmax));
  for (; i < n; ++i) max_abs = std::max(max_abs, std::fabs(x[i]));
  if (!(max_abs > 0.0f)) {
    std::fill(out, out + n, int8_t{0});
    return 0.0f;
  }
  const float inv = 127.0f / max_abs;
  const auto vinv = hn::Set(df, inv);
  const auto lo = hn::Set(df, -127.0f), hi = hn::Set(df, 127.0f);
  for (i = 0; i + lanes <= n; i += lanes) {
    // Round: to nearest, ties to even, as std::nearbyint in the default rounding mode.
    const auto q = hn::Min(hn::Max(hn::Round(hn::Mul(hn::LoadU(df, x + i), vinv)), lo), hi);
    hn::StoreU(hn::DemoteTo(d8, hn::ConvertTo(di, q)), d8, out + i);
  }
  for (; i < n; ++i) {
    out[i] = static_cast<int8_t>(std::clamp(std::nearbyint(x[i] * inv), -127.0f, 127.0f));
  }
  return max_abs / 127.0f;
}

}  // namespace HWY_NAMESPACE
}  // namespace accllm
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace accllm {

HWY_EXPORT(QuantizeRow);

float QuantizeA8Row(const float* x, int64_t n, int8_t* out) {
  return HWY_DYNAMIC_DISPATCH(QuantizeRow)(x, n, out);
}

}  // namespace accllm
#endif  // HWY_ONCE
