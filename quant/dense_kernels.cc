// Compiled once per SIMD target by Highway (foreach_target re-includes this file).
#include "quant/dense_kernels.h"

#include <algorithm>  // std::min
#include <cmath>      // std::fma
#include <vector>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "quant/dense_kernels.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"         // HWY_EXPORT, HWY_DYNAMIC_DISPATCH

HWY_BEFORE_NAMESPACE();
namespace accllm {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Blocking: a [kMc, kKc] block of a stays in L2 while every column panel of b passes it; the
// micro-tile is 4 rows x 2 vectors of c in registers (8 accumulators, b loaded once per k).
constexpr int64_t kMc = 64;
constexpr int64_t kKc = 128;

void Gemm(int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b,
          int64_t ldb, double* c, int64_t ldc) {
  const hn::ScalableTag<double> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  // A column panel of b [kKc, 2N], copied contiguous before the rows of a pass it: read in
  // place, its rows lie ldb apart, and for ldb a multiple of 4 KiB (every Hessian and weight
  // width here) they all map to one L1 set, so each load missed (the calibration's Hessian
  // accumulation ran at a few GFLOP/s). The sums' order is unchanged.
  thread_local std::vector<double> panel;
  panel.resize(static_cast<size_t>(kKc * 2 * N));
  for (int64_t k0 = 0; k0 < k; k0 += kKc) {
    const int64_t k1 = std::min(k, k0 + kKc);
    for (int64_t i0 = 0; i0 < m; i0 += kMc) {
      const int64_t i1 = std::min(m, i0 + kMc);
      int64_t j = 0;
      for (; j + 2 * N <= n; j += 2 * N) {
        for (int64_t kk = k0; kk < k1; ++kk) {
          double* dst = panel.data() + (kk - k0) * 2 * N;
          hn::StoreU(hn::LoadU(d, b + kk * ldb + j), d, dst);
          hn::StoreU(hn::LoadU(d, b + kk * ldb + j + N), d, dst + N);
        }
        int64_t i = i0;
        for (; i + 4 <= i1; i += 4) {
          double* c0 = c + i * ldc + j;
          double* c1 = c0 + ldc;
          double* c2 = c1 + ldc;
          double* c3 = c2 + ldc;
          auto s00 = hn::LoadU(d, c0), s01 = hn::LoadU(d, c0 + N);
          auto s10 = hn::LoadU(d, c1), s11 = hn::LoadU(d, c1 + N);
          auto s20 = hn::LoadU(d, c2), s21 = hn::LoadU(d, c2 + N);
          auto s30 = hn::LoadU(d, c3), s31 = hn::LoadU(d, c3 + N);
          const double* a0 = a + i * lda;
          for (int64_t kk = k0; kk < k1; ++kk) {
            const double* bk = panel.data() + (kk - k0) * 2 * N;
            const auto b0 = hn::LoadU(d, bk), b1 = hn::LoadU(d, bk + N);
            auto x = hn::Set(d, a0[kk]);
            s00 = hn::MulAdd(x, b0, s00);
            s01 = hn::MulAdd(x, b1, s01);
            x = hn::Set(d, a0[lda + kk]);
            s10 = hn::MulAdd(x, b0, s10);
            s11 = hn::MulAdd(x, b1, s11);
            x = hn::Set(d, a0[2 * lda + kk]);
            s20 = hn::MulAdd(x, b0, s20);
            s21 = hn::MulAdd(x, b1, s21);
            x = hn::Set(d, a0[3 * lda + kk]);
            s30 = hn::MulAdd(x, b0, s30);
            s31 = hn::MulAdd(x, b1, s31);
          }
          hn::StoreU(s00, d, c0), hn::StoreU(s01, d, c0 + N);
          hn::StoreU(s10, d, c1), hn::StoreU(s11, d, c1 + N);
          hn::StoreU(s20, d, c2), hn::StoreU(s21, d, c2 + N);
          hn::StoreU(s30, d, c3), hn::StoreU(s31, d, c3 + N);
        }
        for (; i < i1; ++i) {
          double* ci = c + i * ldc + j;
          auto s0 = hn::LoadU(d, ci), s1 = hn::LoadU(d, ci + N);
          for (int64_t kk = k0; kk < k1; ++kk) {
            const double* bk = panel.data() + (kk - k0) * 2 * N;
            const auto x = hn::Set(d, a[i * lda + kk]);
            s0 = hn::MulAdd(x, hn::LoadU(d, bk), s0);
            s1 = hn::MulAdd(x, hn::LoadU(d, bk + N), s1);
          }
          hn::StoreU(s0, d, ci), hn::StoreU(s1, d, ci + N);
        }
      }
      for (; j + N <= n; j += N) {
        for (int64_t i = i0; i < i1; ++i) {
          double* ci = c + i * ldc + j;
          auto s = hn::LoadU(d, ci);
          for (int64_t kk = k0; kk < k1; ++kk) {
            s = hn::MulAdd(hn::Set(d, a[i * lda + kk]), hn::LoadU(d, b + kk * ldb + j), s);
          }
          hn::StoreU(s, d, ci);
        }
      }
      // Ragged columns: scalar, with the same fused rounding as the vector lanes.
      for (; j < n; ++j) {
        for (int64_t i = i0; i < i1; ++i) {
          double s = c[i * ldc + j];
          for (int64_t kk = k0; kk < k1; ++kk) s = std::fma(a[i * lda + kk], b[kk * ldb + j], s);
          c[i * ldc + j] = s;
        }
      }
    }
  }
}

double Dot(const double* a, const double* b, int64_t n) {
  const hn::ScalableTag<double> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  auto s0 = hn::Zero(d), s1 = hn::Zero(d), s2 = hn::Zero(d), s3 = hn::Zero(d);
  int64_t i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
    s0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), s0);
    s1 = hn::MulAdd(hn::LoadU(d, a + i + N), hn::LoadU(d, b + i + N), s1);
    s2 = hn::MulAdd(hn::LoadU(d, a + i + 2 * N), hn::LoadU(d, b + i + 2 * N), s2);
    s3 = hn::MulAdd(hn::LoadU(d, a + i + 3 * N), hn::LoadU(d, b + i + 3 * N), s3);
  }
  for (; i + N <= n; i += N) s0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), s0);
  double s = hn::GetLane(hn::SumOfLanes(d, hn::Add(hn::Add(s0, s1), hn::Add(s2, s3))));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

void AxpyKernel(double alpha, const double* x, double* y, int64_t n) {
  const hn::ScalableTag<double> d;
  const int64_t N = static_cast<int64_t>(hn::Lanes(d));
  const auto va = hn::Set(d, alpha);
  int64_t i = 0;
  for (; i + N <= n; i += N) {
    hn::StoreU(hn::MulAdd(va, hn::LoadU(d, x + i), hn::LoadU(d, y + i)), d, y + i);
  }
  for (; i < n; ++i) y[i] = std::fma(alpha, x[i], y[i]);
}

}  // namespace HWY_NAMESPACE
}  // namespace accllm
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace accllm {

HWY_EXPORT(Gemm);
HWY_EXPORT(Dot);
HWY_EXPORT(AxpyKernel);

void GemmAccumulate(int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b,
                    int64_t ldb, double* c, int64_t ldc) {
  if (m <= 0 || n <= 0 || k <= 0) return;
  HWY_DYNAMIC_DISPATCH(Gemm)(m, n, k, a, lda, b, ldb, c, ldc);
}

double DotProduct(const double* a, const double* b, int64_t n) {
  return n <= 0 ? 0.0 : HWY_DYNAMIC_DISPATCH(Dot)(a, b, n);
}

void Axpy(double alpha, const double* x, double* y, int64_t n) {
  if (n > 0) HWY_DYNAMIC_DISPATCH(AxpyKernel)(alpha, x, y, n);
}

}  // namespace accllm
#endif  // HWY_ONCE
