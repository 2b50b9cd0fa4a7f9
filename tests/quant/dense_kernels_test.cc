// The tooling's double kernels against plain loops, on every SIMD target this CPU has.
#include "quant/dense_kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "hwy/targets.h"                     // hwy::SetSupportedTargetsForTest, hwy::TargetName
#include "tests/workers/cpu/simd_targets.h"  // SimdTargetsToTest

namespace accllm {
namespace {

using ::accllm::testing::SimdTargetsToTest;

std::vector<double> Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> dist;
  std::vector<double> v(n);
  for (double& x : v) x = dist(rng);
  return v;
}

TEST(DenseKernelsTest, GemmMatchesLoopsOnEveryTargetAndShape) {
  // Ragged shapes exercise the 4-row micro-tile's leftovers, single vectors and scalar columns;
  // k past one 256 block and m past one 64 block exercise the cache blocking.
  struct Shape {
    int64_t m, n, k;
  };
  for (int64_t target : SimdTargetsToTest()) {
    hwy::SetSupportedTargetsForTest(target);
    for (Shape s : {Shape{1, 1, 1}, Shape{3, 5, 7}, Shape{7, 19, 33}, Shape{70, 37, 300},
                    Shape{9, 64, 513}}) {
      const int64_t lda = s.k + 2, ldb = s.n + 3, ldc = s.n + 1;  // strided views
      const std::vector<double> a = Random(static_cast<size_t>(s.m * lda), 1);
      const std::vector<double> b = Random(static_cast<size_t>(s.k * ldb), 2);
      std::vector<double> c = Random(static_cast<size_t>(s.m * ldc), 3);
      std::vector<double> expected = c;
      for (int64_t i = 0; i < s.m; ++i) {
        for (int64_t j = 0; j < s.n; ++j) {
          for (int64_t kk = 0; kk < s.k; ++kk) {
            expected[i * ldc + j] += a[i * lda + kk] * b[kk * ldb + j];
          }
        }
      }
      GemmAccumulate(s.m, s.n, s.k, a.data(), lda, b.data(), ldb, c.data(), ldc);
      for (size_t i = 0; i < c.size(); ++i) {
        ASSERT_NEAR(c[i], expected[i], 1e-11 * (1.0 + std::fabs(expected[i])))
            << hwy::TargetName(target) << " " << s.m << "x" << s.n << "x" << s.k << " at " << i;
      }
    }
  }
  hwy::SetSupportedTargetsForTest(0);
}

TEST(DenseKernelsTest, DotAndAxpyMatchLoopsOnEveryTarget) {
  for (int64_t target : SimdTargetsToTest()) {
    hwy::SetSupportedTargetsForTest(target);
    for (int64_t n : {0, 1, 7, 8, 31, 32, 33, 100}) {
      const std::vector<double> x = Random(static_cast<size_t>(n), 4);
      const std::vector<double> y0 = Random(static_cast<size_t>(n), 5);
      double dot = 0.0;
      for (int64_t i = 0; i < n; ++i) dot += x[i] * y0[i];
      EXPECT_NEAR(DotProduct(x.data(), y0.data(), n), dot, 1e-12 * (1.0 + n))
          << hwy::TargetName(target) << " n " << n;
      std::vector<double> y = y0;
      Axpy(-0.75, x.data(), y.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        EXPECT_NEAR(y[i], y0[i] - 0.75 * x[i], 1e-15 * (1.0 + std::fabs(y0[i])))
            << hwy::TargetName(target) << " n " << n;
      }
    }
  }
  hwy::SetSupportedTargetsForTest(0);
}

}  // namespace
}  // namespace accllm
