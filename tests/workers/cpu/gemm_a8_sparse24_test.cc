#include "workers/cpu/gemm_a8_sparse24.h"

#include <gtest/gtest.h>

#include <algorithm>  // std::equal
#include <random>
#include <vector>

#include "hwy/targets.h"             // hwy::SetSupportedTargetsForTest, hwy::TargetName
#include "quant/reference_matvec.h"  // MatVecA8
#include "tests/support/random_group_params.h"  // testing::PackWithRandomParams
#include "tests/workers/cpu/simd_targets.h"     // SimdTargetsToTest

namespace accllm {
namespace {

using ::accllm::testing::SimdTargetsToTest;

QuantizedLinear RandomSparse(int64_t rows, int64_t cols, uint64_t seed,
                             ZeroPoint zero_point = ZeroPoint::kFractional) {
  std::mt19937_64 rng(seed);
  UnpackedLinear u;
  u.format = {.bits = 2,
              .scheme = WeightScheme::kUniform,
              .group = 64,
              .sparsity = Sparsity::k2of4,
              .zero_point = zero_point};
  u.rows = rows;
  u.cols = cols;
  u.codes.resize(rows * cols);
  u.keep.assign(rows * cols, 0);
  for (uint8_t& c : u.codes) c = static_cast<uint8_t>(rng() % 4);
  static constexpr int kPairs[6][2] = {{0, 1}, {0, 2}, {0, 3}, {1, 2}, {1, 3}, {2, 3}};
  for (int64_t i = 0; i < rows * cols; i += 4) {
    const int* pair = kPairs[rng() % 6];
    u.keep[i + pair[0]] = u.keep[i + pair[1]] = 1;
  }
  return testing::PackWithRandomParams(u, cols / 64, 4.0f, rng);
}

// Bit-exact with the oracle per token on every target, with fractional and with integer zero
// points: ragged row tiles, the 8-, 4- and 1-token paths, an all-zero token, a token at the
// A8 extremes (±127, so x + 128 spans 1 .. 255).
TEST(GemmA8Sparse24Test, EqualsTheScalarOraclePerToken) {
  struct Shape {
    int64_t rows, cols;
  };
  for (ZeroPoint zero_point : {ZeroPoint::kFractional, ZeroPoint::kInteger})
  for (const Shape& s : {Shape{37, 128}, Shape{16, 64}, Shape{5, 192}}) {
    SCOPED_TRACE(ZeroPointName(zero_point));
    const QuantizedLinear q = RandomSparse(s.rows, s.cols, s.rows + s.cols, zero_point);
    absl::StatusOr<TiledSparse24> tiled = TileSparse24(q.view());
    ASSERT_TRUE(tiled.ok()) << tiled.status();
    EXPECT_EQ(tiled->integer_zeros, zero_point == ZeroPoint::kInteger);
    for (int64_t n : {1, 5, 13}) {  // the 1-, 4- and 8-token kernels
      std::vector<float> x(n * s.cols);
      std::mt19937_64 rng(n);
      std::normal_distribution<float> normal(0.0f, 1.0f);
      for (float& v : x) v = normal(rng);
      if (n > 1) std::fill(x.begin() + s.cols, x.begin() + 2 * s.cols, 0.0f);
      if (n > 2) {
        for (int64_t c = 0; c < s.cols; ++c) x[2 * s.cols + c] = c % 2 ? 1.0f : -1.0f;
      }
      std::vector<float> expected(n * s.rows);
      for (int64_t i = 0; i < n; ++i) {
        const A8Vector xi = QuantizeA8({x.data() + i * s.cols, size_t(s.cols)});
        ASSERT_TRUE(MatVecA8(q.view(), xi, {expected.data() + i * s.rows, size_t(s.rows)}).ok());
      }
      const PreparedA8 prepared = QuantizePrepareA8(x.data(), n, s.cols, 64);
      ThreadPool pool(2);
      for (int64_t target : SimdTargetsToTest()) {
        hwy::SetSupportedTargetsForTest(target);
        std::vector<float> y(n * s.rows, -1.0f);
        GemmA8Sparse24(*tiled, prepared, y.data(), &pool);
        // Without the biased activations every token takes the fractional form: same bits.
        std::vector<float> y_unbiased(n * s.rows, -1.0f);
        GemmA8Sparse24TileRange(*tiled, prepared, {}, 0, tiled->tiles, y_unbiased.data());
        for (int64_t i = 0; i < n * s.rows; ++i) {
          ASSERT_EQ(y[i], expected[i]) << hwy::TargetName(target) << " " << s.rows << "x" << s.cols
                                       << " token " << i / s.rows << " row " << i % s.rows;
          ASSERT_EQ(y_unbiased[i], expected[i]) << hwy::TargetName(target) << " unbiased";
        }
      }
      hwy::SetSupportedTargetsForTest(0);
    }
  }
}

// Loading tiles on the model's threads: the same bytes as one thread (ragged row tiles).
TEST(GemmA8Sparse24Test, TilingOnThreadsGivesTheSameTiles) {
  ThreadPool pool(2);
  for (ZeroPoint zero_point : {ZeroPoint::kFractional, ZeroPoint::kInteger}) {
    const QuantizedLinear q = RandomSparse(53, 192, 11, zero_point);
    absl::StatusOr<TiledSparse24> one = TileSparse24(q.view());
    absl::StatusOr<TiledSparse24> two = TileSparse24(q.view(), &pool);
    ASSERT_TRUE(one.ok() && two.ok()) << one.status() << two.status();
    EXPECT_TRUE(std::equal(one->codes.begin(), one->codes.end(), two->codes.begin(),
                           two->codes.end()));
    EXPECT_TRUE(std::equal(one->positions.begin(), one->positions.end(),
                           two->positions.begin(), two->positions.end()));
    EXPECT_EQ(one->scales, two->scales);
    EXPECT_EQ(one->zeros, two->zeros);
    EXPECT_EQ(one->zero_codes, two->zero_codes);
    EXPECT_EQ(one->code_zero_sums, two->code_zero_sums);
  }
}

// Integer zeros live in their 2 bits: a 2:4 W2 layer then streams fewer bytes than a dense
// W2 one of its shape (issue 16), 292 against 320 per 16 rows × 64 columns.
TEST(GemmA8Sparse24Test, IntegerZerosMakeTheTilesSmallerThanDenseW2) {
  const QuantizedLinear q = RandomSparse(64, 256, 5, ZeroPoint::kInteger);
  absl::StatusOr<TiledSparse24> tiled = TileSparse24(q.view());
  ASSERT_TRUE(tiled.ok()) << tiled.status();
  EXPECT_TRUE(tiled->zeros.empty());
  EXPECT_EQ(tiled->bytes(), 4 * 4 * 292);  // 4 tiles × 4 groups
  const QuantizedLinear f = RandomSparse(64, 256, 5, ZeroPoint::kFractional);
  EXPECT_EQ(TileSparse24(f.view())->bytes(), 4 * 4 * 320);  // as dense W2 g64
}

TEST(GemmA8Sparse24Test, OtherFormatsAreUnimplemented) {
  QuantizedLinear q = RandomSparse(4, 64, 1);
  q.format.group = 32;
  EXPECT_EQ(TileSparse24(q.view()).status().code(), absl::StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace accllm
