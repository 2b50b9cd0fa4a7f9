// Compiled once per SIMD target by Highway (foreach_target re-includes this file).
#include "workers/cpu/kv4_attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "workers/cpu/kv4_attention.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"         // HWY_EXPORT, HWY_DYNAMIC_DISPATCH
#include "model/dtype.h"         // HalfToFloat
// After highway.h, so it is re-included per target like this file.
#include "hwy/contrib/math/math-inl.h"  // hn::Exp

HWY_BEFORE_NAMESPACE();
namespace accllm {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Keys / values widened to float per block: [kBlock, head_dim] stays in L1.
constexpr int64_t kBlock = 32;

// codes [half] bytes → dst [2·half] floats: the low nibbles (even channels) in
// [0, half), the high nibbles (odd channels) in [half, 2·half) — the "split" order.
HWY_INLINE void Unpack(const uint8_t* codes, int64_t half, float* dst) {
  const hn::CappedTag<float, 16> df;
  const hn::Rebind<int32_t, decltype(df)> di;
  const hn::Rebind<uint8_t, decltype(df)> du8;
  const int64_t n = static_cast<int64_t>(hn::Lanes(df));
  const auto low = hn::Set(du8, uint8_t{0x0F});
  int64_t j = 0;
  for (; j + n <= half; j += n) {
    const auto u = hn::LoadU(du8, codes + j);
    hn::StoreU(hn::ConvertTo(df, hn::PromoteTo(di, hn::And(u, low))), df, dst + j);
    hn::StoreU(hn::ConvertTo(df, hn::PromoteTo(di, hn::ShiftRight<4>(u))), df, dst + half + j);
  }
  for (; j < half; ++j) {
    dst[j] = static_cast<float>(codes[j] & 0x0F);
    dst[half + j] = static_cast<float>(codes[j] >> 4);
  }
}

// Σ a[j]·b[j] over n floats.
HWY_INLINE float Dot(const float* a, const float* b, int64_t n) {
  const hn::CappedTag<float, 16> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  auto acc = hn::Zero(df);
  int64_t j = 0;
  for (; j + lanes <= n; j += lanes)
    acc = hn::MulAdd(hn::LoadU(df, a + j), hn::LoadU(df, b + j), acc);
  float sum = hn::GetLane(hn::SumOfLanes(df, acc));
  for (; j < n; ++j) sum += a[j] * b[j];
  return sum;
}

// q [nq, head_dim] → split order (as Unpack lays out the keys), plus each head's Σ q.
HWY_INLINE void SplitQueries(const float* q, int nq, int head_dim, float* split, float* sums) {
  const int half = head_dim / 2;
  for (int h = 0; h < nq; ++h) {
    const float* qh = q + h * head_dim;
    float* s = split + h * head_dim;
    float sum = 0.0f;
    for (int j = 0; j < half; ++j) {
      s[j] = qh[2 * j];
      s[half + j] = qh[2 * j + 1];
    }
    for (int d = 0; d < head_dim; ++d) sum += qh[d];
    sums[h] = sum;
  }
}

void Scores(const float* q, int nq, int head_dim, const Kv4Ref* keys, int64_t n, float scale,
            float* scores, int64_t stride) {
  const int64_t half = head_dim / 2;
  std::vector<float> split(static_cast<size_t>(nq) * head_dim), sums(nq);
  SplitQueries(q, nq, head_dim, split.data(), sums.data());
  std::vector<float> k(static_cast<size_t>(kBlock * head_dim));
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t nb = std::min(kBlock, n - i0);
    for (int64_t b = 0; b < nb; ++b) Unpack(keys[i0 + b].codes, half, k.data() + b * head_dim);
    for (int h = 0; h < nq; ++h) {
      for (int64_t b = 0; b < nb; ++b) {
        const float dot = Dot(split.data() + h * head_dim, k.data() + b * head_dim, head_dim);
        const KvQuantParams p = keys[i0 + b].params;
        // q·k̂ = s (q·c − z Σq), as DotQuantizedKey forms it; then the softmax scale.
        scores[h * stride + i0 + b] =
            HalfToFloat(p.scale) * (dot - HalfToFloat(p.zero) * sums[h]) * scale;
      }
    }
  }
}

void AccumulateValues(const float* w, int64_t stride, int nq, int head_dim, const Kv4Ref* values,
                      int64_t n, float* out) {
  const hn::CappedTag<float, 16> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  const int64_t half = head_dim / 2;
  std::vector<float> acc(static_cast<size_t>(nq) * head_dim, 0.0f);  // split order
  std::vector<float> v(static_cast<size_t>(kBlock * head_dim));
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t nb = std::min(kBlock, n - i0);
    for (int64_t b = 0; b < nb; ++b) {
      float* vb = v.data() + b * head_dim;
      Unpack(values[i0 + b].codes, half, vb);
      const float s = HalfToFloat(values[i0 + b].params.scale);
      const float z = HalfToFloat(values[i0 + b].params.zero);
      for (int64_t d = 0; d < head_dim; ++d) vb[d] = (vb[d] - z) * s;  // v̂ = s (c − z)
    }
    for (int h = 0; h < nq; ++h) {
      float* a = acc.data() + h * head_dim;
      const float* wh = w + h * stride + i0;
      int64_t j = 0;
      for (; j + lanes <= head_dim; j += lanes) {
        auto sum = hn::LoadU(df, a + j);
        for (int64_t b = 0; b < nb; ++b) {
          sum = hn::MulAdd(hn::Set(df, wh[b]), hn::LoadU(df, v.data() + b * head_dim + j), sum);
        }
        hn::StoreU(sum, df, a + j);
      }
      for (; j < head_dim; ++j) {
        for (int64_t b = 0; b < nb; ++b) a[j] += wh[b] * v[b * head_dim + j];
      }
    }
  }
  for (int h = 0; h < nq; ++h) {
    const float* a = acc.data() + h * head_dim;
    float* o = out + h * head_dim;
    for (int64_t j = 0; j < half; ++j) {
      o[2 * j] += a[j];
      o[2 * j + 1] += a[half + j];
    }
  }
}

void Softmax(float* w, int64_t n) {
  const hn::CappedTag<float, 16> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  float max = -INFINITY;
  for (int64_t i = 0; i < n; ++i) max = std::max(max, w[i]);
  const auto vmax = hn::Set(df, max);
  auto vsum = hn::Zero(df);
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    const auto e = hn::Exp(df, hn::Sub(hn::LoadU(df, w + i), vmax));
    hn::StoreU(e, df, w + i);
    vsum = hn::Add(vsum, e);
  }
  float sum = hn::GetLane(hn::SumOfLanes(df, vsum));
  for (; i < n; ++i) sum += (w[i] = std::exp(w[i] - max));
  const float inv = 1.0f / sum;
  for (i = 0; i < n; ++i) w[i] *= inv;
}

}  // namespace HWY_NAMESPACE
}  // namespace accllm
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace accllm {

HWY_EXPORT(Scores);
HWY_EXPORT(AccumulateValues);
HWY_EXPORT(Softmax);

void SoftmaxInPlace(float* w, int64_t n) { HWY_DYNAMIC_DISPATCH(Softmax)(w, n); }

void Kv4Scores(const float* q, int nq, int head_dim, std::span<const Kv4Ref> keys, float scale,
               float* scores, int64_t stride) {
  HWY_DYNAMIC_DISPATCH(Scores)
  (q, nq, head_dim, keys.data(), static_cast<int64_t>(keys.size()), scale, scores, stride);
}

void Kv4AccumulateValues(const float* w, int64_t stride, int nq, int head_dim,
                         std::span<const Kv4Ref> values, float* out) {
  HWY_DYNAMIC_DISPATCH(AccumulateValues)
  (w, stride, nq, head_dim, values.data(), static_cast<int64_t>(values.size()), out);
}

}  // namespace accllm
#endif  // HWY_ONCE
