#include "workers/cpu/int8_gemm.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "hwy/targets.h"                     // hwy::SetSupportedTargetsForTest, hwy::TargetName
#include "tests/workers/cpu/simd_targets.h"  // SimdTargetsToTest

namespace accllm {
namespace {

using ::accllm::testing::SimdTargetsToTest;

// Exact int32 dots against a plain loop, on every target, ragged rows and columns,
// token counts that exercise each token block (8, 4, 2, 1), the ±127 extremes.
TEST(Int8GemmTest, EqualsPlainDotsOnEveryTarget) {
  struct Case {
    int64_t rows, cols, n;
  };
  for (const Case& c : {Case{37, 70, 1}, Case{16, 64, 15}, Case{5, 3, 2}, Case{40, 130, 9}}) {
    std::mt19937_64 rng(c.rows * 1000 + c.cols);
    std::uniform_int_distribution<int> v(-127, 127);
    std::vector<int8_t> w(c.rows * c.cols);
    for (int8_t& x : w) x = static_cast<int8_t>(v(rng));
    w[0] = 127;
    w[1] = -127;
    const TiledInt8 tiled = TileInt8(w.data(), c.rows, c.cols);
    const int64_t stride = tiled.steps * 4 + 4;  // a stride wider than needed
    std::vector<int8_t> x(c.n * stride, 0);
    for (int64_t i = 0; i < c.n; ++i) {
      for (int64_t k = 0; k < c.cols; ++k) x[i * stride + k] = static_cast<int8_t>(v(rng));
    }
    x[0] = -127;
    std::vector<int32_t> expected(c.n * c.rows);
    for (int64_t i = 0; i < c.n; ++i) {
      for (int64_t r = 0; r < c.rows; ++r) {
        int32_t sum = 0;
        for (int64_t k = 0; k < c.cols; ++k) sum += int32_t{w[r * c.cols + k]} * x[i * stride + k];
        expected[i * c.rows + r] = sum;
      }
    }
    ThreadPool pool(2);
    for (int64_t target : SimdTargetsToTest()) {
      hwy::SetSupportedTargetsForTest(target);
      std::vector<int32_t> dots(c.n * c.rows, -1);
      Int8Gemm(tiled, x.data(), stride, c.n, dots.data(), &pool);
      EXPECT_EQ(dots, expected) << hwy::TargetName(target) << " " << c.rows << "x" << c.cols
                                << " n " << c.n;
    }
    hwy::SetSupportedTargetsForTest(0);
  }
}

}  // namespace
}  // namespace accllm
