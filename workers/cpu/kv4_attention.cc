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

// dots[0, lanes) = Σ_j k0[j] · qc[j][·] and dots[lanes, 2·lanes) the same for k1: two keys'
// dots with a chunk of query heads (qc: [hd, lanes]). Its own function: inlined into
// Scores' loops, GCC kept half the accumulators on the stack.
HWY_NOINLINE void DotPair(const float* HWY_RESTRICT qc, const float* HWY_RESTRICT k0,
                          const float* HWY_RESTRICT k1, int64_t hd, float* HWY_RESTRICT dots) {
  const hn::CappedTag<float, 8> dh;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(dh));
  auto a0 = hn::Zero(dh), a1 = hn::Zero(dh), a2 = hn::Zero(dh), a3 = hn::Zero(dh);
  auto b0 = hn::Zero(dh), b1 = hn::Zero(dh), b2 = hn::Zero(dh), b3 = hn::Zero(dh);
  int64_t j = 0;
  for (; j + 4 <= hd; j += 4) {
    const auto q0 = hn::LoadU(dh, qc + j * lanes), q1 = hn::LoadU(dh, qc + (j + 1) * lanes);
    const auto q2 = hn::LoadU(dh, qc + (j + 2) * lanes), q3 = hn::LoadU(dh, qc + (j + 3) * lanes);
    a0 = hn::MulAdd(hn::Set(dh, k0[j]), q0, a0);
    a1 = hn::MulAdd(hn::Set(dh, k0[j + 1]), q1, a1);
    a2 = hn::MulAdd(hn::Set(dh, k0[j + 2]), q2, a2);
    a3 = hn::MulAdd(hn::Set(dh, k0[j + 3]), q3, a3);
    b0 = hn::MulAdd(hn::Set(dh, k1[j]), q0, b0);
    b1 = hn::MulAdd(hn::Set(dh, k1[j + 1]), q1, b1);
    b2 = hn::MulAdd(hn::Set(dh, k1[j + 2]), q2, b2);
    b3 = hn::MulAdd(hn::Set(dh, k1[j + 3]), q3, b3);
  }
  for (; j < hd; ++j) {
    const auto qj = hn::LoadU(dh, qc + j * lanes);
    a0 = hn::MulAdd(hn::Set(dh, k0[j]), qj, a0);
    b0 = hn::MulAdd(hn::Set(dh, k1[j]), qj, b0);
  }
  hn::Store(hn::Add(hn::Add(a0, a1), hn::Add(a2, a3)), dh, dots);
  hn::Store(hn::Add(hn::Add(b0, b1), hn::Add(b2, b3)), dh, dots + lanes);
}

// Scores: the lanes are query heads (a GQA group has 8), so a key's dots with all of them
// are one FMA per channel and no horizontal sums; two keys at a time keep 8 chains in flight.
void Scores(const float* q, int nq, int head_dim, const Kv4Ref* keys, int64_t n, float scale,
            float* scores, int64_t stride) {
  const hn::CappedTag<float, 8> dh;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(dh));
  const int64_t hd = head_dim, half = head_dim / 2;
  const int64_t head_chunks = (nq + lanes - 1) / lanes;
  // qt[c][j][l] = channel j (split order, as Unpack lays out the keys) of head c·lanes + l.
  std::vector<float> qt(static_cast<size_t>(head_chunks * hd * lanes), 0.0f);
  std::vector<float> qsum(static_cast<size_t>(head_chunks * lanes), 0.0f);
  for (int h = 0; h < nq; ++h) {
    const float* qh = q + h * hd;
    float* col = qt.data() + (h / lanes) * hd * lanes + h % lanes;
    float sum = 0.0f;
    for (int64_t j = 0; j < half; ++j) {
      col[j * lanes] = qh[2 * j];
      col[(half + j) * lanes] = qh[2 * j + 1];
    }
    for (int64_t d = 0; d < hd; ++d) sum += qh[d];
    qsum[h] = sum;
  }
  std::vector<float> k(static_cast<size_t>(2 * hd), 0.0f);
  HWY_ALIGN float out[8];
  for (int64_t i = 0; i < n; i += 2) {
    const bool pair = i + 1 < n;
    Unpack(keys[i].codes, half, k.data());
    if (pair) Unpack(keys[i + 1].codes, half, k.data() + hd);
    const float* k0 = k.data();
    const float* k1 = k.data() + hd;
    for (int64_t c = 0; c < head_chunks; ++c) {
      const float* qc = qt.data() + c * hd * lanes;
      HWY_ALIGN float dots[16];
      DotPair(qc, k0, k1, hd, dots);
      const auto sums = hn::LoadU(dh, qsum.data() + c * lanes);
      const int64_t heads = std::min(lanes, nq - c * lanes);
      // q·k̂ = s (q·c − z Σq), as DotQuantizedKey forms it; then the softmax scale.
      auto finish = [&](const float* d, int64_t key) {
        const auto dot = hn::Load(dh, d);
        const KvQuantParams p = keys[key].params;
        const auto v = hn::Mul(hn::Mul(hn::Set(dh, HalfToFloat(p.scale)),
                                       hn::Sub(dot, hn::Mul(hn::Set(dh, HalfToFloat(p.zero)), sums))),
                               hn::Set(dh, scale));
        hn::Store(v, dh, out);
        for (int64_t l = 0; l < heads; ++l) scores[(c * lanes + l) * stride + key] = out[l];
      };
      finish(dots, i);
      if (pair) finish(dots + lanes, i + 1);
    }
  }
}

// Values: Σ_i w_i v̂_i = Σ_i (w_i s_i) c_i − Σ_i w_i s_i z_i, so the codes are used as they
// unpack (no per-key dequantization) and the zero points become one term per head. Two heads
// at a time share each value's loads and keep 8 accumulator chains in flight.
void AccumulateValues(const float* w, int64_t stride, int nq, int head_dim, const Kv4Ref* values,
                      int64_t n, float* out) {
  const hn::CappedTag<float, 16> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  const int64_t hd = head_dim, half = head_dim / 2;
  std::vector<float> acc(static_cast<size_t>(nq) * hd, 0.0f);  // split order
  std::vector<float> corr(nq, 0.0f);
  std::vector<float> v(static_cast<size_t>(kBlock * hd));
  std::vector<float> ws(static_cast<size_t>(2 * kBlock));
  HWY_ALIGN float s[kBlock];
  HWY_ALIGN float z[kBlock];
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t nb = std::min(kBlock, n - i0);
    for (int64_t b = 0; b < nb; ++b) {
      Unpack(values[i0 + b].codes, half, v.data() + b * hd);
      s[b] = HalfToFloat(values[i0 + b].params.scale);
      z[b] = HalfToFloat(values[i0 + b].params.zero);
    }
    for (int h0 = 0; h0 < nq; h0 += 2) {
      const int nh = std::min(2, nq - h0);
      // Per head: the weights times the scales, and the zero-point term.
      for (int u = 0; u < 2; ++u) {
        const float* wh = w + (h0 + std::min(u, nh - 1)) * stride + i0;
        float* wsu = ws.data() + u * kBlock;
        auto cv = hn::Zero(df);  // vectors: a scalar sum here was one long latency chain
        int64_t b = 0;
        for (; b + lanes <= nb; b += lanes) {
          const auto wsb = hn::Mul(hn::LoadU(df, wh + b), hn::Load(df, s + b));
          hn::StoreU(wsb, df, wsu + b);
          cv = hn::MulAdd(wsb, hn::Load(df, z + b), cv);
        }
        float c = hn::GetLane(hn::SumOfLanes(df, cv));
        for (; b < nb; ++b) {
          wsu[b] = wh[b] * s[b];
          c += wsu[b] * z[b];
        }
        if (u < nh) corr[h0 + u] += c;
      }
      float* a0 = acc.data() + h0 * hd;
      float* a1 = acc.data() + (h0 + nh - 1) * hd;  // == a0 for a lone last head
      const float* w0 = ws.data();
      const float* w1 = ws.data() + kBlock;
      int64_t d = 0;
      for (; d + 4 * lanes <= hd; d += 4 * lanes) {
        auto x0 = hn::LoadU(df, a0 + d), x1 = hn::LoadU(df, a0 + d + lanes);
        auto x2 = hn::LoadU(df, a0 + d + 2 * lanes), x3 = hn::LoadU(df, a0 + d + 3 * lanes);
        auto y0 = hn::Zero(df), y1 = hn::Zero(df), y2 = hn::Zero(df), y3 = hn::Zero(df);
        for (int64_t b = 0; b < nb; ++b) {
          const float* vb = v.data() + b * hd + d;
          const auto v0 = hn::LoadU(df, vb), v1 = hn::LoadU(df, vb + lanes);
          const auto v2 = hn::LoadU(df, vb + 2 * lanes), v3 = hn::LoadU(df, vb + 3 * lanes);
          const auto g0 = hn::Set(df, w0[b]), g1 = hn::Set(df, w1[b]);
          x0 = hn::MulAdd(g0, v0, x0);
          x1 = hn::MulAdd(g0, v1, x1);
          x2 = hn::MulAdd(g0, v2, x2);
          x3 = hn::MulAdd(g0, v3, x3);
          y0 = hn::MulAdd(g1, v0, y0);
          y1 = hn::MulAdd(g1, v1, y1);
          y2 = hn::MulAdd(g1, v2, y2);
          y3 = hn::MulAdd(g1, v3, y3);
        }
        hn::StoreU(x0, df, a0 + d);
        hn::StoreU(x1, df, a0 + d + lanes);
        hn::StoreU(x2, df, a0 + d + 2 * lanes);
        hn::StoreU(x3, df, a0 + d + 3 * lanes);
        if (nh == 2) {
          hn::StoreU(hn::Add(hn::LoadU(df, a1 + d), y0), df, a1 + d);
          hn::StoreU(hn::Add(hn::LoadU(df, a1 + d + lanes), y1), df, a1 + d + lanes);
          hn::StoreU(hn::Add(hn::LoadU(df, a1 + d + 2 * lanes), y2), df, a1 + d + 2 * lanes);
          hn::StoreU(hn::Add(hn::LoadU(df, a1 + d + 3 * lanes), y3), df, a1 + d + 3 * lanes);
        }
      }
      for (; d + lanes <= hd; d += lanes) {
        auto x0 = hn::LoadU(df, a0 + d), y0 = hn::Zero(df);
        for (int64_t b = 0; b < nb; ++b) {
          const auto vb = hn::LoadU(df, v.data() + b * hd + d);
          x0 = hn::MulAdd(hn::Set(df, w0[b]), vb, x0);
          y0 = hn::MulAdd(hn::Set(df, w1[b]), vb, y0);
        }
        hn::StoreU(x0, df, a0 + d);
        if (nh == 2) hn::StoreU(hn::Add(hn::LoadU(df, a1 + d), y0), df, a1 + d);
      }
      for (; d < hd; ++d) {
        for (int64_t b = 0; b < nb; ++b) {
          a0[d] += w0[b] * v[b * hd + d];
          if (nh == 2) a1[d] += w1[b] * v[b * hd + d];
        }
      }
    }
  }
  for (int h = 0; h < nq; ++h) {
    const float* a = acc.data() + h * hd;
    float* o = out + h * hd;
    for (int64_t j = 0; j < half; ++j) {
      o[2 * j] += a[j] - corr[h];
      o[2 * j + 1] += a[half + j] - corr[h];
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
