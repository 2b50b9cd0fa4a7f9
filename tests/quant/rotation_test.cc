#include "quant/rotation.h"

#include <gmock/gmock.h>  // testing::HasSubstr
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "quant/layer_quantizer.h"        // InputRotationFor, RotateMoment
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

// RandomOrthogonal's Gaussian draw (splitmix64 + Box-Muller, as rotation.cc specifies it) and
// the plain modified Gram-Schmidt, twice, that it used before the blocked form: the oracle.
std::vector<double> ReferenceRandomOrthogonal(int64_t n, uint64_t seed) {
  uint64_t state = seed;
  auto next = [&state] {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  };
  auto uniform = [&] { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; };
  std::vector<double> m(static_cast<size_t>(n * n));
  for (size_t i = 0; i < m.size(); i += 2) {
    const double a = std::sqrt(-2.0 * std::log(uniform()));
    const double t = 2.0 * 3.14159265358979323846 * uniform();
    m[i] = a * std::cos(t);
    if (i + 1 < m.size()) m[i + 1] = a * std::sin(t);
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (int64_t i = 0; i < n; ++i) {
      double* ri = m.data() + i * n;
      for (int64_t k = 0; k < i; ++k) {
        double dot = 0.0;
        for (int64_t j = 0; j < n; ++j) dot += ri[j] * m[k * n + j];
        for (int64_t j = 0; j < n; ++j) ri[j] -= dot * m[k * n + j];
      }
      double norm = 0.0;
      for (int64_t j = 0; j < n; ++j) norm += ri[j] * ri[j];
      for (int64_t j = 0; j < n; ++j) ri[j] /= std::sqrt(norm);
    }
  }
  return m;
}

TEST(RotationTest, BlockGramSchmidtGivesWhatPlainGramSchmidtGives) {
  // The rows orthonormalized in order have one answer (the Q of the QR with a positive R
  // diagonal); sizes past one 32-row panel and ragged.
  for (int64_t n : {7, 45, 100}) {
    const std::vector<float> q = Rotation::RandomOrthogonal(n, 5).Matrix();
    const std::vector<double> ref = ReferenceRandomOrthogonal(n, 5);
    for (size_t i = 0; i < ref.size(); ++i) ASSERT_NEAR(q[i], ref[i], 1e-6) << n << " at " << i;
    EXPECT_TRUE(Rotation::FromMatrix(q, n).ok()) << n;
  }
}

TEST(RotationTest, DenseWeightRotationEqualsApplyPerRow) {
  const int64_t n = 40, rows = 9;
  const Rotation q = Rotation::RandomOrthogonal(n, 2);
  std::vector<float> w = RandomNormal(static_cast<size_t>(rows * n), 3);
  std::vector<float> expected = w;
  for (int64_t r = 0; r < rows; ++r) {
    q.Apply(std::span<float>(expected).subspan(static_cast<size_t>(r * n), static_cast<size_t>(n)));
  }
  RotateWeightInputs(q, w);
  EXPECT_LT(MaxAbsDiff(w, expected), 1e-6);
}

TEST(RotationTest, RotatedMomentIsQHQt) {
  for (int64_t n : {16, 40}) {
    const Rotation q = InputRotationFor(n, 4);
    const std::vector<float> x = RandomNormal(static_cast<size_t>(30 * n), 6);
    std::vector<double> h(static_cast<size_t>(n * n), 0.0), hr(h.size(), 0.0);
    std::vector<float> xr = x;
    q.ApplyToRows(xr);
    for (int64_t s = 0; s < 30; ++s) {
      for (int64_t i = 0; i < n; ++i) {
        for (int64_t j = 0; j < n; ++j) {
          h[i * n + j] += static_cast<double>(x[s * n + i]) * x[s * n + j];
          hr[i * n + j] += static_cast<double>(xr[s * n + i]) * xr[s * n + j];
        }
      }
    }
    const std::vector<double> rotated = RotateMoment(q, h);
    for (size_t i = 0; i < h.size(); ++i) {
      ASSERT_NEAR(rotated[i], hr[i], 1e-4 * (1.0 + std::fabs(hr[i]))) << n << " at " << i;
    }
  }
}

}  // namespace
}  // namespace accllm
