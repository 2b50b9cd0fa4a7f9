#include "workers/engine/weight_matrix.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "model/tensor.h"                       // TensorView, EncodeFloat32
#include "tests/support/status_matchers.h"      // StatusIs
#include "workers/engine/shared_thread_pool.h"  // SharedThreadPool

namespace accllm {
namespace {

using ::accllm::testing::StatusIs;

// Linear's contract on the SIMD float path: row i of ApplyBatch (on the pool) equals Apply(x_i)
// bit for bit, for every stored dtype; and the values are the float dot products.
TEST(WeightMatrixTest, ApplyBatchEqualsApplyBitForBit) {
  const int64_t rows = 67, cols = 300, n = 11;  // ragged: row tiles, column tails, token tiles
  std::mt19937_64 rng(5);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> w(rows * cols), x(n * cols);
  for (float& v : w) v = g(rng);
  for (float& v : x) v = g(rng);
  auto pool = std::make_shared<SharedThreadPool>(2);
  for (DType dtype : {DType::kF32, DType::kF16, DType::kBF16}) {
    const std::vector<std::byte> bytes = EncodeFloat32(w, dtype);
    const TensorView t{.name = "w", .dtype = dtype, .shape = {rows, cols}, .data = bytes};
    absl::StatusOr<WeightMatrix> m = WeightMatrix::FromTensor(t, pool);
    ASSERT_TRUE(m.ok()) << m.status();
    const std::vector<float> stored = ToFloat32Vector(t);
    std::vector<float> batch(n * rows);
    m->ApplyBatch(x.data(), n, batch.data());
    for (int64_t i = 0; i < n; ++i) {
      std::vector<float> one(rows);
      m->Apply({x.data() + i * cols, static_cast<size_t>(cols)}, one);
      EXPECT_EQ(std::memcmp(one.data(), batch.data() + i * rows, rows * sizeof(float)), 0)
          << DTypeName(dtype) << " token " << i;
      for (int64_t r = 0; r < rows; ++r) {
        double sum = 0, mag = 0;
        for (int64_t c = 0; c < cols; ++c) {
          sum += double{stored[r * cols + c]} * x[i * cols + c];
          mag += std::abs(double{stored[r * cols + c]} * x[i * cols + c]);
        }
        EXPECT_NEAR(one[r], sum, 1e-5 * mag) << DTypeName(dtype) << " token " << i << " row " << r;
      }
    }
  }
}

TEST(WeightMatrixTest, RejectsWhatIsNotAFloatMatrix) {
  const std::vector<std::byte> bytes(16);
  const TensorView t{.name = "w", .dtype = DType::kF32, .shape = {4}, .data = bytes};
  EXPECT_THAT(WeightMatrix::FromTensor(t).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("expected 2-D")));
}

}  // namespace
}  // namespace accllm
