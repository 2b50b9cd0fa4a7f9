#include "quant/reference_matvec.h"

#include <gmock/gmock.h>  // testing::HasSubstr
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "quant/a8.h"                     // QuantizeA8, A8GroupSums
#include "quant/rtn.h"                    // QuantizeRtn
#include "tests/quant/quant_test_util.h"  // AllFormats, MatVec, RandomNormal, RelativeL2
#include "tests/support/status_matchers.h"

namespace accllm {
namespace {

using ::accllm::testing::AllFormats;
using ::accllm::testing::MatVec;
using ::accllm::testing::MaxAbsDiff;
using ::accllm::testing::RandomNormal;
using ::accllm::testing::RelativeL2;
using ::accllm::testing::StatusIs;
using ::testing::HasSubstr;

TEST(A8Test, SymmetricPerTokenScale) {
  const std::vector<float> x = {0.5f, -1.27f, 0.0f, 1.0f, 0.005f};
  const A8Vector q = QuantizeA8(x);
  EXPECT_FLOAT_EQ(q.scale, 1.27f / 127.0f);
  EXPECT_EQ(q.values[1], -127);
  EXPECT_EQ(q.values[0], 50);
  EXPECT_EQ(q.values[2], 0);
  EXPECT_EQ(q.values[3], 100);
  EXPECT_EQ(q.values[4], 0);  // 0.5 rounds to even
  std::vector<float> back(x.size());
  DequantizeA8(q, back);
  EXPECT_LE(MaxAbsDiff(back, x), q.scale / 2 + 1e-7);
}

TEST(A8Test, ZeroTokenAndGroupSums) {
  const A8Vector q = QuantizeA8(std::vector<float>(5, 0.0f));
  EXPECT_EQ(q.scale, 0.0f);
  EXPECT_THAT(q.values, ::testing::Each(0));
  const std::vector<int8_t> v = {1, 2, 3, -4, 5};
  EXPECT_THAT(A8GroupSums(v, 2), ::testing::ElementsAre(3, -1, 5));
}

struct Shape {
  int64_t rows, cols;
  int group;
};

// Every format x ragged shapes: the integer A8 kernel equals float math on the dequantized
// operands, and the A16 kernel equals float math on the dequantized weights.
TEST(ReferenceMatVecTest, MatchesFloatMathOnDequantizedOperands) {
  for (const Shape& s : {Shape{7, 172, 64}, Shape{5, 36, 16}, Shape{3, 256, 64}, Shape{4, 12, 8}}) {
    for (const WeightFormat& base : AllFormats(s.group)) {
      WeightFormat f = base;
      SCOPED_TRACE(f.ToString() + " cols " + std::to_string(s.cols));
      const std::vector<float> w = RandomNormal(static_cast<size_t>(s.rows * s.cols), 1, 0.05f);
      absl::StatusOr<QuantizedLinear> q = QuantizeRtn(w, s.rows, s.cols, f);
      ASSERT_TRUE(q.ok()) << q.status();
      const std::vector<float> w_hat = DequantizeLinear(q->view());
      const std::vector<float> x = RandomNormal(static_cast<size_t>(s.cols), 2);

      std::vector<float> y16(static_cast<size_t>(s.rows));
      ASSERT_TRUE(MatVecA16(q->view(), x, y16).ok());
      const std::vector<float> want16 = MatVec(w_hat, x, s.rows, s.cols);
      EXPECT_LT(RelativeL2(y16, want16), 1e-5);

      const A8Vector xq = QuantizeA8(x);
      std::vector<float> x_hat(x.size());
      DequantizeA8(xq, x_hat);
      std::vector<float> y8(static_cast<size_t>(s.rows));
      ASSERT_TRUE(MatVecA8(q->view(), xq, y8).ok());
      const std::vector<float> want8 = MatVec(w_hat, x_hat, s.rows, s.cols);
      EXPECT_LT(RelativeL2(y8, want8), 1e-5);

      // And the weights themselves are within what the bit width allows.
      if (f.sparsity == Sparsity::kDense) {
        // pow2 keeps a relative (log-domain) precision: ~1/6 per weight at any width >= 3.
        const double tol = f.scheme == WeightScheme::kPow2 ? (f.bits == 2 ? 0.6 : 0.25)
                           : f.bits == 8                   ? 0.01
                           : f.bits == 4                   ? 0.15
                           : f.bits == 3                   ? 0.3
                                                           : 0.6;
        EXPECT_LT(RelativeL2(w_hat, w), tol);
      }
    }
  }
}

TEST(ReferenceMatVecTest, EightBitIsCloseToFloat) {
  WeightFormat f;
  f.bits = 8;
  const std::vector<float> w = RandomNormal(16 * 172, 3, 0.1f);
  absl::StatusOr<QuantizedLinear> q = QuantizeRtn(w, 16, 172, f);
  ASSERT_TRUE(q.ok());
  const std::vector<float> x = RandomNormal(172, 4);
  std::vector<float> y(16);
  ASSERT_TRUE(MatVecA8(q->view(), QuantizeA8(x), y).ok());
  EXPECT_LT(RelativeL2(y, MatVec(w, x, 16, 172)), 0.02);
}

TEST(ReferenceMatVecTest, RejectsMismatchedSizes) {
  WeightFormat f;
  absl::StatusOr<QuantizedLinear> q = QuantizeRtn(RandomNormal(4 * 64, 1), 4, 64, f);
  ASSERT_TRUE(q.ok());
  std::vector<float> y(4);
  EXPECT_THAT(MatVecA16(q->view(), std::vector<float>(63), y).message(), HasSubstr("[4, 64]"));
  EXPECT_THAT(MatVecA8(q->view(), QuantizeA8(std::vector<float>(64)), std::span<float>(y).first(3)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("y of 3 elements")));
}

}  // namespace
}  // namespace accllm
