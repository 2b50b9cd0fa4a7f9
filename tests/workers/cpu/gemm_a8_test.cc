#include "workers/cpu/gemm_a8.h"

#include <gtest/gtest.h>

#include <algorithm>  // std::equal
#include <random>

#include "hwy/targets.h"  // hwy::SetSupportedTargetsForTest, hwy::TargetName
#include "quant/reference_matvec.h"
#include "tests/support/random_group_params.h"  // testing::PackWithRandomParams
#include "tests/workers/cpu/simd_targets.h"     // SimdTargetsToTest

namespace accllm {
namespace {

using ::accllm::testing::SimdTargetsToTest;

QuantizedLinear RandomLinear(int bits, int group, int64_t rows, int64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  UnpackedLinear u;
  u.format = {.bits = bits, .scheme = WeightScheme::kUniform, .group = group,
              .sparsity = Sparsity::kDense};
  u.rows = rows;
  u.cols = cols;
  u.codes.resize(rows * cols);
  for (uint8_t& c : u.codes) c = static_cast<uint8_t>(rng() % (1u << bits));
  return testing::PackWithRandomParams(u, (cols + group - 1) / group, float(1 << bits), rng);
}

A8Vector RandomActivations(int64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> x(cols);
  for (float& v : x) v = n(rng);
  x[cols / 3] = 9.0f;  // an outlier, as real activations have
  return QuantizeA8(x);
}

struct Shape {
  int bits, group;
  int64_t rows, cols;
};

class GemvA8Test : public ::testing::TestWithParam<Shape> {};

TEST_P(GemvA8Test, EqualsTheScalarOracleOnEveryTarget) {
  const Shape& s = GetParam();
  const QuantizedLinear q = RandomLinear(s.bits, s.group, s.rows, s.cols, 1);
  absl::StatusOr<TiledLinear> tiled = TileLinear(q.view());
  ASSERT_TRUE(tiled.ok()) << tiled.status();
  const A8Vector x = RandomActivations(s.cols, 2);
  std::vector<float> expected(s.rows);
  ASSERT_TRUE(MatVecA8(q.view(), x, expected).ok());
  const PreparedA8 prepared = PrepareA8(x, s.cols, s.group);
  ThreadPool pool(2);
  for (int64_t target : SimdTargetsToTest()) {
    hwy::SetSupportedTargetsForTest(target);
    std::vector<float> y(s.rows, -1.0f);
    GemvA8(*tiled, prepared, y, &pool);
    for (int64_t r = 0; r < s.rows; ++r) {
      ASSERT_EQ(y[r], expected[r]) << hwy::TargetName(target) << " row " << r;  // bit-exact
    }
  }
  hwy::SetSupportedTargetsForTest(0);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, GemvA8Test,
    ::testing::Values(Shape{2, 64, 64, 256}, Shape{2, 64, 37, 172}, Shape{2, 128, 50, 300},
                      Shape{2, 32, 16, 64}, Shape{4, 64, 33, 172}, Shape{4, 16, 7, 40},
                      Shape{8, 64, 20, 130}, Shape{2, 64, 1, 16}, Shape{4, 64, 21, 128},
                      Shape{8, 64, 18, 192}, Shape{2, 64, 35, 320}),
    [](const auto& info) {
      const Shape& s = info.param;
      return "w" + std::to_string(s.bits) + "_g" + std::to_string(s.group) + "_" +
             std::to_string(s.rows) + "x" + std::to_string(s.cols);
    });

// n tokens at once: every row of Y equals the oracle's GEMV of that token, on every target,
// with token counts around the kernel's token block (16) and ragged row/column edges.
TEST_P(GemvA8Test, GemmOfManyTokensEqualsTheOraclePerToken) {
  const Shape& s = GetParam();
  const QuantizedLinear q = RandomLinear(s.bits, s.group, s.rows, s.cols, 4);
  absl::StatusOr<TiledLinear> tiled = TileLinear(q.view());
  ASSERT_TRUE(tiled.ok()) << tiled.status();
  for (int64_t n : {2, 5, 13, 17}) {  // the 1-, 4- and 8-token kernels
    std::vector<float> x(n * s.cols);
    std::mt19937_64 rng(5 + n);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (float& v : x) v = normal(rng);
    x[0] = 0.0f;
    std::fill(x.begin() + s.cols, x.begin() + 2 * s.cols, 0.0f);  // an all-zero token
    std::vector<float> expected(n * s.rows);
    for (int64_t i = 0; i < n; ++i) {
      const A8Vector xi = QuantizeA8({x.data() + i * s.cols, size_t(s.cols)});
      ASSERT_TRUE(MatVecA8(q.view(), xi, {expected.data() + i * s.rows, size_t(s.rows)}).ok());
    }
    const PreparedA8 prepared = QuantizePrepareA8(x.data(), n, s.cols, s.group);
    ThreadPool pool(2);
    for (int64_t target : SimdTargetsToTest()) {
      hwy::SetSupportedTargetsForTest(target);
      std::vector<float> y(n * s.rows, -1.0f);
      GemmA8(*tiled, prepared, y.data(), &pool);
      for (int64_t i = 0; i < n * s.rows; ++i) {
        ASSERT_EQ(y[i], expected[i]) << hwy::TargetName(target) << " n " << n << " token "
                                     << i / s.rows << " row " << i % s.rows;
      }
    }
    hwy::SetSupportedTargetsForTest(0);
  }
}

// Loading tiles on the model's threads: the same bytes as one thread, for every width and
// ragged tiles and chunks.
TEST(GemvA8Test, TilingOnThreadsGivesTheSameTiles) {
  ThreadPool pool(2);
  for (const Shape& s : {Shape{2, 64, 37, 172}, Shape{4, 16, 70, 40}, Shape{8, 64, 50, 130}}) {
    const QuantizedLinear q = RandomLinear(s.bits, s.group, s.rows, s.cols, 7);
    absl::StatusOr<TiledLinear> one = TileLinear(q.view());
    absl::StatusOr<TiledLinear> two = TileLinear(q.view(), &pool);
    ASSERT_TRUE(one.ok() && two.ok()) << one.status() << two.status();
    EXPECT_TRUE(std::equal(one->codes.begin(), one->codes.end(), two->codes.begin(),
                           two->codes.end()))
        << "w" << s.bits;
    EXPECT_EQ(one->scales, two->scales);
    EXPECT_EQ(one->zeros, two->zeros);
  }
}

#if HWY_ARCH_X86
TEST(GemvA8Test, VnniTargetIsCompiled) {
  // HWY_WANT_AVX3_DL reaches this file too, so a CPU with AVX-512 VNNI runs VPDPBUSD.
  EXPECT_NE(HWY_TARGETS & HWY_AVX3_DL, 0);
}
#endif

TEST(GemvA8Test, UnsupportedFormatsSaySo) {
  QuantizedLinear q = RandomLinear(2, 64, 4, 64, 3);
  q.format.scheme = WeightScheme::kPow2;
  EXPECT_EQ(TileLinear(q.view()).status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_FALSE(GemvTargetName().empty());
}

}  // namespace
}  // namespace accllm
