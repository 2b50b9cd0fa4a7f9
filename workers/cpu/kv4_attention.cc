// Compiled once per SIMD target by Highway (foreach_target re-includes this file).
#include "workers/cpu/kv4_attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "workers/cpu/kv4_attention.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"         // HWY_EXPORT, HWY_DYNAMIC_DISPATCH
// After highway.h, so it is re-included per target like this file.
#include "workers/cpu/portable_exp-inl.h"  // PortableExpVec

HWY_BEFORE_NAMESPACE();
namespace accllm {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Keys / values widened to float per block: [kBlock, head_dim] stays in L1.
constexpr int64_t kBlock = 32;

// A stored vector's fp16 scale and zero as floats, converted by the hardware where the
// target has it (model/dtype.h's portable HalfToFloat was a visible share of decode).
HWY_INLINE float HalfBitsToFloat(uint16_t bits) {
  const hn::CappedTag<hwy::float16_t, 1> dh;
  const hn::Rebind<float, decltype(dh)> df;
  hwy::float16_t half[1];
  std::memcpy(&half[0], &bits, 2);
  return hn::GetLane(hn::PromoteTo(df, hn::LoadU(dh, half)));
}

HWY_INLINE void ScaleZero(const KvQuantParams& p, float& scale, float& zero) {
  scale = HalfBitsToFloat(p.scale);
  zero = HalfBitsToFloat(p.zero);
}

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
  const hn::CappedTag<float, 16> dh;
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

// Scores: the lanes are query rows (a GQA group's 8 heads, of one or two tokens of a query
// block), so a key's dots with all of them are one FMA per channel and no horizontal sums;
// two keys at a time keep 8 chains in flight.
void Scores(const float* q, int nq, int head_dim, const Kv4Ref* keys, int64_t n, float scale,
            float* scores, int64_t stride) {
  const hn::CappedTag<float, 16> dh;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(dh));
  const int64_t hd = head_dim, half = head_dim / 2;
  const int64_t head_chunks = (nq + lanes - 1) / lanes;
  // qt[c][j][l] = channel j (split order, as Unpack lays out the keys) of head c·lanes + l.
  // Per-thread scratch (a decode step makes a call per token and KV head).
  thread_local std::vector<float> qt, qsum, k;
  qt.assign(static_cast<size_t>(head_chunks * hd * lanes), 0.0f);
  qsum.assign(static_cast<size_t>(head_chunks * lanes), 0.0f);
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
  k.assign(static_cast<size_t>(2 * hd), 0.0f);
  HWY_ALIGN float out[16];
  for (int64_t i = 0; i < n; i += 2) {
    const bool pair = i + 1 < n;
    Unpack(keys[i].codes, half, k.data());
    if (pair) Unpack(keys[i + 1].codes, half, k.data() + hd);
    const float* k0 = k.data();
    const float* k1 = k.data() + hd;
    for (int64_t c = 0; c < head_chunks; ++c) {
      const float* qc = qt.data() + c * hd * lanes;
      HWY_ALIGN float dots[32];
      DotPair(qc, k0, k1, hd, dots);
      const auto sums = hn::LoadU(dh, qsum.data() + c * lanes);
      const int64_t heads = std::min(lanes, nq - c * lanes);
      // q·k̂ = s (q·c − z Σq), as DotQuantizedKey forms it; then the softmax scale.
      auto finish = [&](const float* d, int64_t key) {
        const auto dot = hn::Load(dh, d);
        float ks, kz;
        ScaleZero(keys[key].params, ks, kz);
        const auto v = hn::Mul(hn::Mul(hn::Set(dh, ks), hn::Sub(dot, hn::Mul(hn::Set(dh, kz), sums))),
                               hn::Set(dh, scale));
        hn::Store(v, dh, out);
        for (int64_t l = 0; l < heads; ++l) scores[(c * lanes + l) * stride + key] = out[l];
      };
      finish(dots, i);
      if (pair) finish(dots + lanes, i + 1);
    }
  }
}

// Values: each value is unpacked and dequantized once (v̂ = s (c − z)) for all the query
// heads, which then accumulate w_i v̂_i in key order, two heads at a time (shared loads, 8
// chains in flight). Each head's sum is one FMA chain over the keys in order, whatever the
// block boundaries: a key of weight 0 leaves it unchanged, so a query's result does not
// depend on the other keys in the list (quantized_kv.cc's query blocks rely on it).
void AccumulateValues(const float* w, int64_t stride, int nq, int head_dim, const Kv4Ref* values,
                      int64_t n, float* out) {
  const hn::CappedTag<float, 16> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  const int64_t hd = head_dim, half = head_dim / 2;
  thread_local std::vector<float> acc, v;  // per-thread scratch, as in Scores
  acc.assign(static_cast<size_t>(nq) * hd, 0.0f);  // split order
  v.resize(static_cast<size_t>(kBlock * hd));
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t nb = std::min(kBlock, n - i0);
    for (int64_t b = 0; b < nb; ++b) {
      float* vb = v.data() + b * hd;
      Unpack(values[i0 + b].codes, half, vb);
      float vs, vz;
      ScaleZero(values[i0 + b].params, vs, vz);
      const auto s = hn::Set(df, vs);
      const auto z = hn::Set(df, vz);
      int64_t d = 0;
      for (; d + lanes <= hd; d += lanes) {
        hn::StoreU(hn::Mul(hn::Sub(hn::LoadU(df, vb + d), z), s), df, vb + d);
      }
      const float ss = hn::GetLane(s), zs = hn::GetLane(z);
      for (; d < hd; ++d) vb[d] = (vb[d] - zs) * ss;
    }
    for (int h0 = 0; h0 < nq; h0 += 2) {
      const bool two = h0 + 1 < nq;
      float* a0 = acc.data() + h0 * hd;
      float* a1 = acc.data() + (two ? h0 + 1 : h0) * hd;  // == a0 for a lone last head
      const float* w0 = w + h0 * stride + i0;
      const float* w1 = w + (two ? h0 + 1 : h0) * stride + i0;
      int64_t d = 0;
      for (; d + 2 * lanes <= hd; d += 2 * lanes) {
        auto x0 = hn::LoadU(df, a0 + d), x1 = hn::LoadU(df, a0 + d + lanes);
        auto y0 = hn::LoadU(df, a1 + d), y1 = hn::LoadU(df, a1 + d + lanes);
        for (int64_t b = 0; b < nb; ++b) {
          const float* vb = v.data() + b * hd + d;
          const auto v0 = hn::LoadU(df, vb), v1 = hn::LoadU(df, vb + lanes);
          const auto g0 = hn::Set(df, w0[b]), g1 = hn::Set(df, w1[b]);
          x0 = hn::MulAdd(g0, v0, x0);
          x1 = hn::MulAdd(g0, v1, x1);
          y0 = hn::MulAdd(g1, v0, y0);
          y1 = hn::MulAdd(g1, v1, y1);
        }
        hn::StoreU(x0, df, a0 + d);
        hn::StoreU(x1, df, a0 + d + lanes);
        if (two) {
          hn::StoreU(y0, df, a1 + d);
          hn::StoreU(y1, df, a1 + d + lanes);
        }
      }
      for (; d + lanes <= hd; d += lanes) {
        auto x0 = hn::LoadU(df, a0 + d), y0 = hn::LoadU(df, a1 + d);
        for (int64_t b = 0; b < nb; ++b) {
          const auto vb = hn::LoadU(df, v.data() + b * hd + d);
          x0 = hn::MulAdd(hn::Set(df, w0[b]), vb, x0);
          y0 = hn::MulAdd(hn::Set(df, w1[b]), vb, y0);
        }
        hn::StoreU(x0, df, a0 + d);
        if (two) hn::StoreU(y0, df, a1 + d);
      }
      for (; d < hd; ++d) {
        for (int64_t b = 0; b < nb; ++b) {
          a0[d] += w0[b] * v[b * hd + d];
          if (two) a1[d] += w1[b] * v[b * hd + d];
        }
      }
    }
  }
  for (int h = 0; h < nq; ++h) {
    const float* a = acc.data() + h * hd;
    float* o = out + h * hd;
    for (int64_t j = 0; j < half; ++j) {
      o[2 * j] += a[j];
      o[2 * j + 1] += a[half + j];
    }
  }
}

// quant/portable_exp.h's PortableSoftmaxInPlace with the exps in SIMD: the same bits on
// every target (and on the FPGA card). The max is exact in any order; the sum's order is fixed.
void Softmax(float* w, int64_t n) {
  if (n <= 0) return;
  const hn::CappedTag<float, 16> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  auto vmax = hn::Set(df, -INFINITY);
  int64_t m = 0;
  for (; m + lanes <= n; m += lanes) vmax = hn::Max(vmax, hn::LoadU(df, w + m));
  float max = hn::GetLane(hn::MaxOfLanes(df, vmax));
  for (; m < n; ++m) max = std::max(max, w[m]);
  const auto vmax_all = hn::Set(df, max);
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    hn::StoreU(PortableExpVec(df, hn::Sub(hn::LoadU(df, w + i), vmax_all)), df, w + i);
  }
  for (; i < n; ++i) w[i] = PortableExp(w[i] - max);
  const float inv = 1.0f / SumInEightLanes(w, n);
  const auto vinv = hn::Set(df, inv);
  for (i = 0; i + lanes <= n; i += lanes) hn::StoreU(hn::Mul(hn::LoadU(df, w + i), vinv), df, w + i);
  for (; i < n; ++i) w[i] *= inv;
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
