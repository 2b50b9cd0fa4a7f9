// Compiled once per SIMD target by Highway (foreach_target re-includes this file).
#include "workers/cpu/float_attention.h"

#include "workers/cpu/kv4_attention.h"  // SoftmaxInPlace

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "workers/cpu/float_attention.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"         // HWY_EXPORT, HWY_DYNAMIC_DISPATCH

HWY_BEFORE_NAMESPACE();
namespace accllm {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// scores[g · n + i] = scale · q_g · k_i: whole vectors lane-wise, then the lanes summed, then
// the columns past the last whole vector in order.
void GroupScores(const float* q, int32_t group, int32_t head_dim, const float* const* keys,
                 int64_t offset, int64_t n, float scale, float* scores) {
  const hn::ScalableTag<float> df;
  const int32_t lanes = static_cast<int32_t>(hn::Lanes(df));
  const int32_t whole = head_dim - head_dim % lanes;
  for (int64_t i = 0; i < n; ++i) {
    const float* k = keys[i] + offset;
    for (int32_t g = 0; g < group; ++g) {
      const float* qg = q + g * head_dim;
      auto acc = hn::Zero(df);
      for (int32_t d = 0; d < whole; d += lanes) {
        acc = hn::MulAdd(hn::LoadU(df, qg + d), hn::LoadU(df, k + d), acc);
      }
      float dot = whole > 0 ? hn::GetLane(hn::SumOfLanes(df, acc)) : 0.0f;
      for (int32_t d = whole; d < head_dim; ++d) dot += qg[d] * k[d];
      scores[g * n + i] = dot * scale;
    }
  }
}

// out[g · head_dim + d] = Σ_i w[g · n + i] · v_i[d], keys in order (two interleaved chains,
// added at the end, to hide the multiply-add latency).
void GroupValues(const float* w, int32_t group, int32_t head_dim, const float* const* values,
                 int64_t offset, int64_t n, float* out) {
  const hn::ScalableTag<float> df;
  const int32_t lanes = static_cast<int32_t>(hn::Lanes(df));
  const int32_t whole = head_dim - head_dim % lanes;
  for (int32_t g = 0; g < group; ++g) {
    const float* wg = w + g * n;
    float* o = out + g * head_dim;
    for (int32_t d = 0; d < whole; d += lanes) {
      auto a0 = hn::Zero(df);
      auto a1 = hn::Zero(df);
      int64_t i = 0;
      for (; i + 2 <= n; i += 2) {
        a0 = hn::MulAdd(hn::Set(df, wg[i]), hn::LoadU(df, values[i] + offset + d), a0);
        a1 = hn::MulAdd(hn::Set(df, wg[i + 1]), hn::LoadU(df, values[i + 1] + offset + d), a1);
      }
      if (i < n) a0 = hn::MulAdd(hn::Set(df, wg[i]), hn::LoadU(df, values[i] + offset + d), a0);
      hn::StoreU(hn::Add(a0, a1), df, o + d);
    }
    for (int32_t d = whole; d < head_dim; ++d) {
      float sum = 0.0f;
      for (int64_t i = 0; i < n; ++i) sum += wg[i] * values[i][offset + d];
      o[d] = sum;
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace accllm
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace accllm {

HWY_EXPORT(GroupScores);
HWY_EXPORT(GroupValues);

void FloatAttendGroup(const float* q, int32_t group, int32_t head_dim, const float* const* keys,
                      const float* const* values, int64_t offset, int64_t n, float scale,
                      float* scores, float* out) {
  HWY_DYNAMIC_DISPATCH(GroupScores)(q, group, head_dim, keys, offset, n, scale, scores);
  for (int32_t g = 0; g < group; ++g) SoftmaxInPlace(scores + g * n, n);
  HWY_DYNAMIC_DISPATCH(GroupValues)(scores, group, head_dim, values, offset, n, out);
}

}  // namespace accllm
#endif  // HWY_ONCE
