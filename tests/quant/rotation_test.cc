#include "quant/rotation.h"

#include <gmock/gmock.h>  // testing::HasSubstr
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tests/quant/quant_test_util.h"  // MatVec, MaxAbsDiff, RandomNormal, RelativeL2
#include "tests/support/status_matchers.h"

namespace accllm {
namespace {

using ::accllm::testing::MatVec;
using ::accllm::testing::MaxAbsDiff;
using ::accllm::testing::RandomNormal;
using ::accllm::testing::RelativeL2;
using ::accllm::testing::StatusIs;
using ::testing::HasSubstr;

double MaxOverRms(std::span<const float> w) {
  double m = 0.0, ss = 0.0;
  for (float v : w) {
    m = std::max(m, std::fabs(static_cast<double>(v)));
    ss += static_cast<double>(v) * v;
  }
  return m / std::sqrt(ss / static_cast<double>(w.size()));
}

std::vector<Rotation> Rotations(int64_t n) {
  std::vector<Rotation> out = {Rotation::ForSize(n, 7), Rotation::RandomOrthogonal(n, 3)};
  out.push_back(Rotation::Hadamard(n, 0));
  return out;
}

TEST(RotationTest, RotatedLayerComputesTheSameOutputs) {
  for (int64_t n : {64, 172}) {
    const int64_t rows = 12;
    const std::vector<float> w = RandomNormal(static_cast<size_t>(rows * n), 1);
    const std::vector<float> x = RandomNormal(static_cast<size_t>(n), 2);
    const std::vector<float> y = MatVec(w, x, rows, n);
    for (const Rotation& q : Rotations(n)) {
      std::vector<float> w2 = w, x2 = x;
      RotateWeightInputs(q, w2);
      q.Apply(x2);
      EXPECT_LT(RelativeL2(MatVec(w2, x2, rows, n), y), 1e-5) << n;
      q.ApplyTranspose(x2);
      EXPECT_LT(MaxAbsDiff(x2, x), 1e-5);
    }
  }
}

TEST(RotationTest, FoldingIntoTheProducerMatchesOnlineRotation) {
  // x = U h; rotating U's outputs gives Q x, what the next layer expects.
  const int64_t n = 32, cols = 10;
  const std::vector<float> u = RandomNormal(static_cast<size_t>(n * cols), 5);
  const std::vector<float> h = RandomNormal(static_cast<size_t>(cols), 6);
  const Rotation q = Rotation::ForSize(n, 9);
  std::vector<float> x = MatVec(u, h, n, cols);
  q.Apply(x);
  std::vector<float> u2 = u;
  RotateWeightOutputs(q, u2);
  EXPECT_LT(RelativeL2(MatVec(u2, h, n, cols), x), 1e-5);
}

TEST(RotationTest, SpreadsOutlierColumns) {
  for (int64_t n : {128, 172}) {
    const int64_t rows = 32;
    std::vector<float> w = RandomNormal(static_cast<size_t>(rows * n), 3, 0.02f);
    for (int64_t r = 0; r < rows; ++r) {
      w[static_cast<size_t>(r * n + 5)] = 1.0f;  // two outlier input channels
      w[static_cast<size_t>(r * n + 77)] = -0.8f;
    }
    const double before = MaxOverRms(w);
    std::vector<float> rotated = w;
    RotateWeightInputs(Rotation::ForSize(n, 11), rotated);
    EXPECT_LT(MaxOverRms(rotated), 0.5 * before) << n;
  }
}

TEST(RotationTest, MatrixAndFromMatrix) {
  const Rotation h = Rotation::Hadamard(16, 4);
  const std::vector<float> m = h.Matrix();
  absl::StatusOr<Rotation> back = Rotation::FromMatrix(m, 16);
  ASSERT_TRUE(back.ok()) << back.status();
  std::vector<float> a = RandomNormal(16, 1), b = a;
  h.Apply(a);
  back->Apply(b);
  EXPECT_LT(MaxAbsDiff(a, b), 1e-6);
  std::vector<float> bad = m;
  bad[3] += 0.5f;
  EXPECT_THAT(Rotation::FromMatrix(bad, 16).status().message(), HasSubstr("not orthogonal"));
  EXPECT_THAT(Rotation::FromMatrix(m, 15),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("expected [15, 15]")));
  // The seeded Hadamard is reproducible (the engine regenerates it online).
  EXPECT_EQ(Rotation::Hadamard(16, 4).Matrix(), m);
  EXPECT_NE(Rotation::Hadamard(16, 5).Matrix(), m);
}

}  // namespace
}  // namespace accllm
