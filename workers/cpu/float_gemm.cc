// Compiled once per SIMD target by Highway (foreach_target re-includes this file).
#include "workers/cpu/float_gemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "workers/cpu/float_gemm.cc"
#include "hwy/cache_control.h"   // hwy::Prefetch
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"         // HWY_EXPORT, HWY_DYNAMIC_DISPATCH

HWY_BEFORE_NAMESPACE();
namespace accllm {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// One vector of weights widened to float: exact for F16 and BF16.
HWY_INLINE VF LoadW(DF df, const float* p) { return hn::LoadU(df, p); }
HWY_INLINE VF LoadW(DF df, const hwy::bfloat16_t* p) {
  const hn::Rebind<hwy::bfloat16_t, DF> dh;
  return hn::PromoteTo(df, hn::LoadU(dh, p));
}
HWY_INLINE VF LoadW(DF df, const hwy::float16_t* p) {
  const hn::Rebind<hwy::float16_t, DF> dh;
  return hn::PromoteTo(df, hn::LoadU(dh, p));
}

HWY_INLINE float Sum(DF df, VF v) { return hn::GetLane(hn::SumOfLanes(df, v)); }

// The columns past the last full vector, zero-padded into a vector-sized buffer, so that every
// kernel below does the same last MulAdd for an output (0 · 0 adds nothing).
template <typename T>
struct Tail {
  HWY_ALIGN T v[hn::MaxLanes(DF())];
  Tail(const T* p, int64_t count) {
    std::memset(v, 0, sizeof(v));
    std::memcpy(v, p, static_cast<size_t>(count) * sizeof(T));
  }
};

// The kernels: R weight rows × T tokens, one accumulator each (named, not arrays: SVE vectors
// are sizeless). `w` points at the first row, `x` at the first token; rows and tokens are
// `cols` apart; y[t * y_stride + r].

// 4 rows × 4 tokens: 16 accumulators, 4 widened weight vectors reused over 4 tokens.
#define ACCLLM_STEP44(W0, W1, W2, W3, X0, X1, X2, X3) \
  do {                                                \
    const VF v0 = LoadW(df, W0);                      \
    const VF v1 = LoadW(df, W1);                      \
    const VF v2 = LoadW(df, W2);                      \
    const VF v3 = LoadW(df, W3);                      \
    VF xv = hn::LoadU(df, X0);                        \
    a00 = hn::MulAdd(v0, xv, a00);                    \
    a10 = hn::MulAdd(v1, xv, a10);                    \
    a20 = hn::MulAdd(v2, xv, a20);                    \
    a30 = hn::MulAdd(v3, xv, a30);                    \
    xv = hn::LoadU(df, X1);                           \
    a01 = hn::MulAdd(v0, xv, a01);                    \
    a11 = hn::MulAdd(v1, xv, a11);                    \
    a21 = hn::MulAdd(v2, xv, a21);                    \
    a31 = hn::MulAdd(v3, xv, a31);                    \
    xv = hn::LoadU(df, X2);                           \
    a02 = hn::MulAdd(v0, xv, a02);                    \
    a12 = hn::MulAdd(v1, xv, a12);                    \
    a22 = hn::MulAdd(v2, xv, a22);                    \
    a32 = hn::MulAdd(v3, xv, a32);                    \
    xv = hn::LoadU(df, X3);                           \
    a03 = hn::MulAdd(v0, xv, a03);                    \
    a13 = hn::MulAdd(v1, xv, a13);                    \
    a23 = hn::MulAdd(v2, xv, a23);                    \
    a33 = hn::MulAdd(v3, xv, a33);                    \
  } while (0)

template <typename WT>
HWY_NOINLINE void Kernel44(const WT* w, const float* x, int64_t cols, float* y, int64_t y_stride) {
  const DF df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  VF a00 = hn::Zero(df), a01 = hn::Zero(df), a02 = hn::Zero(df), a03 = hn::Zero(df);
  VF a10 = hn::Zero(df), a11 = hn::Zero(df), a12 = hn::Zero(df), a13 = hn::Zero(df);
  VF a20 = hn::Zero(df), a21 = hn::Zero(df), a22 = hn::Zero(df), a23 = hn::Zero(df);
  VF a30 = hn::Zero(df), a31 = hn::Zero(df), a32 = hn::Zero(df), a33 = hn::Zero(df);
  const WT* w0 = w;
  const WT* w1 = w + cols;
  const WT* w2 = w + 2 * cols;
  const WT* w3 = w + 3 * cols;
  const float* x0 = x;
  const float* x1 = x + cols;
  const float* x2 = x + 2 * cols;
  const float* x3 = x + 3 * cols;
  int64_t c = 0;
  for (; c + lanes <= cols; c += lanes) {
    ACCLLM_STEP44(w0 + c, w1 + c, w2 + c, w3 + c, x0 + c, x1 + c, x2 + c, x3 + c);
  }
  if (c < cols) {
    const int64_t k = cols - c;
    const Tail<WT> t0(w0 + c, k), t1(w1 + c, k), t2(w2 + c, k), t3(w3 + c, k);
    const Tail<float> u0(x0 + c, k), u1(x1 + c, k), u2(x2 + c, k), u3(x3 + c, k);
    ACCLLM_STEP44(t0.v, t1.v, t2.v, t3.v, u0.v, u1.v, u2.v, u3.v);
  }
  y[0] = Sum(df, a00);
  y[1] = Sum(df, a10);
  y[2] = Sum(df, a20);
  y[3] = Sum(df, a30);
  y[y_stride + 0] = Sum(df, a01);
  y[y_stride + 1] = Sum(df, a11);
  y[y_stride + 2] = Sum(df, a21);
  y[y_stride + 3] = Sum(df, a31);
  y[2 * y_stride + 0] = Sum(df, a02);
  y[2 * y_stride + 1] = Sum(df, a12);
  y[2 * y_stride + 2] = Sum(df, a22);
  y[2 * y_stride + 3] = Sum(df, a32);
  y[3 * y_stride + 0] = Sum(df, a03);
  y[3 * y_stride + 1] = Sum(df, a13);
  y[3 * y_stride + 2] = Sum(df, a23);
  y[3 * y_stride + 3] = Sum(df, a33);
}
#undef ACCLLM_STEP44

// 4 rows × 1 token: the decode GEMV, four rows streamed side by side.
#define ACCLLM_STEP41(W0, W1, W2, W3, X0)   \
  do {                                      \
    const VF xv = hn::LoadU(df, X0);        \
    a0 = hn::MulAdd(LoadW(df, W0), xv, a0); \
    a1 = hn::MulAdd(LoadW(df, W1), xv, a1); \
    a2 = hn::MulAdd(LoadW(df, W2), xv, a2); \
    a3 = hn::MulAdd(LoadW(df, W3), xv, a3); \
  } while (0)

template <typename WT>
HWY_NOINLINE void Kernel41(const WT* w, const float* x, int64_t cols, float* y) {
  const DF df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  VF a0 = hn::Zero(df), a1 = hn::Zero(df), a2 = hn::Zero(df), a3 = hn::Zero(df);
  const WT* w0 = w;
  const WT* w1 = w + cols;
  const WT* w2 = w + 2 * cols;
  const WT* w3 = w + 3 * cols;
  // The next four rows, a few kilobytes ahead: the DRAM stream of a decode GEMV.
  const WT* next = w + 4 * cols;
  int64_t c = 0;
  for (; c + lanes <= cols; c += lanes) {
    hwy::Prefetch(next + c);
    hwy::Prefetch(next + cols + c);
    hwy::Prefetch(next + 2 * cols + c);
    hwy::Prefetch(next + 3 * cols + c);
    ACCLLM_STEP41(w0 + c, w1 + c, w2 + c, w3 + c, x + c);
  }
  if (c < cols) {
    const int64_t k = cols - c;
    const Tail<WT> t0(w0 + c, k), t1(w1 + c, k), t2(w2 + c, k), t3(w3 + c, k);
    const Tail<float> u(x + c, k);
    ACCLLM_STEP41(t0.v, t1.v, t2.v, t3.v, u.v);
  }
  y[0] = Sum(df, a0);
  y[1] = Sum(df, a1);
  y[2] = Sum(df, a2);
  y[3] = Sum(df, a3);
}
#undef ACCLLM_STEP41

// 1 row × 1 token: the rows past the last multiple of 4.
template <typename WT>
HWY_NOINLINE void Kernel11(const WT* w, const float* x, int64_t cols, float* y) {
  const DF df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  VF a = hn::Zero(df);
  int64_t c = 0;
  for (; c + lanes <= cols; c += lanes) a = hn::MulAdd(LoadW(df, w + c), hn::LoadU(df, x + c), a);
  if (c < cols) {
    const int64_t k = cols - c;
    const Tail<WT> t(w + c, k);
    const Tail<float> u(x + c, k);
    a = hn::MulAdd(LoadW(df, t.v), hn::Load(df, u.v), a);
  }
  y[0] = Sum(df, a);
}

// Tokens in blocks that stay in L2 while a thread's rows pass over them.
constexpr int64_t kTokenBlock = 64;

template <typename WT>
void RowsImpl(const WT* w, int64_t rows, int64_t cols, const float* x, int64_t n, int64_t r0,
              int64_t r1, float* y) {
  for (int64_t tb = 0; tb < n; tb += kTokenBlock) {
    const int64_t te = std::min(n, tb + kTokenBlock);
    int64_t r = r0;
    for (; r + 4 <= r1; r += 4) {
      const WT* wr = w + r * cols;
      int64_t t = tb;
      for (; t + 4 <= te; t += 4) Kernel44(wr, x + t * cols, cols, y + t * rows + r, rows);
      for (; t < te; ++t) Kernel41(wr, x + t * cols, cols, y + t * rows + r);
    }
    for (; r < r1; ++r) {
      for (int64_t t = tb; t < te; ++t) {
        Kernel11(w + r * cols, x + t * cols, cols, y + t * rows + r);
      }
    }
  }
}

// Rows [r0, r1) of one job.
void FloatRows(const FloatGemmJob& job, const float* x, int64_t n, int64_t cols, int64_t r0,
               int64_t r1) {
  switch (job.type) {
    case FloatWeightType::kF32:
      RowsImpl(static_cast<const float*>(job.w), job.rows, cols, x, n, r0, r1, job.y);
      return;
    case FloatWeightType::kF16:
      RowsImpl(static_cast<const hwy::float16_t*>(job.w), job.rows, cols, x, n, r0, r1, job.y);
      return;
    case FloatWeightType::kBF16:
      RowsImpl(static_cast<const hwy::bfloat16_t*>(job.w), job.rows, cols, x, n, r0, r1, job.y);
      return;
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace accllm
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace accllm {

HWY_EXPORT(FloatRows);

namespace {
// Rows per unit of the thread split: a multiple of the kernels' 4, small enough that a decode
// step's small matrices (K/V) still split over the threads.
constexpr int64_t kTileRows = 16;
}  // namespace

void FloatGemm(std::span<const FloatGemmJob> jobs, const float* x, int64_t n, int64_t cols,
               ThreadPool* pool) {
  if (n <= 0 || jobs.empty()) return;
  // tile_start[j]: the first tile of job j in the call's tile numbering.
  std::vector<int64_t> tile_start(jobs.size() + 1, 0);
  for (size_t j = 0; j < jobs.size(); ++j) {
    tile_start[j + 1] = tile_start[j] + (jobs[j].rows + kTileRows - 1) / kTileRows;
  }
  auto run = [&](int64_t b, int64_t e, int) {
    for (size_t j = 0; j < jobs.size() && b < e; ++j) {
      if (b >= tile_start[j + 1]) continue;
      const int64_t last = std::min(e, tile_start[j + 1]);
      const int64_t r0 = (b - tile_start[j]) * kTileRows;
      const int64_t r1 = std::min(jobs[j].rows, (last - tile_start[j]) * kTileRows);
      HWY_DYNAMIC_DISPATCH(FloatRows)(jobs[j], x, n, cols, r0, r1);
      b = last;
    }
  };
  ForEachTile(pool, tile_start.back(), run);
}

}  // namespace accllm
#endif  // HWY_ONCE
