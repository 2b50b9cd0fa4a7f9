#include "quant/calibration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "quant/layer_error.h"  // RelativeOutputError
#include "tests/support/status_matchers.h"
#include "tests/support/test_env.h"  // TempDir, WriteFileOrDie

namespace accllm {
namespace {

using ::accllm::testing::StatusIs;
using ::testing::HasSubstr;

// The error from the inputs' second moment equals the one computed on the inputs themselves.
TEST(CalibrationTest, MomentErrorMatchesErrorOnSamples) {
  const int64_t rows = 5, cols = 12, samples = 40;
  std::vector<float> w(rows * cols), w_hat(rows * cols), x(samples * cols);
  for (size_t i = 0; i < w.size(); ++i) {
    w[i] = std::sin(0.37f * i);
    w_hat[i] = w[i] + 0.05f * std::cos(1.7f * i);
  }
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.11f * i * i + 0.5f);
  HessianAccumulator h(cols);
  ASSERT_TRUE(h.Add(x, samples).ok());
  const double from_moment = RelativeOutputErrorFromMoment(w, w_hat, rows, cols, h.Hessian());
  absl::StatusOr<double> direct = RelativeOutputError(w, w_hat, rows, cols, x, samples);
  ASSERT_TRUE(direct.ok());
  EXPECT_NEAR(from_moment, *direct, 1e-5);
}

// Several approximations at once (the quantizer's GPTQ and RTN errors, sharing the signal
// term) give each one's error alone; more rows than one block of the GEMM.
TEST(CalibrationTest, SeveralMomentErrorsAtOnceEqualEachAlone) {
  const int64_t rows = 70, cols = 9, samples = 30;
  std::vector<float> w(rows * cols), a(rows * cols), b(rows * cols), x(samples * cols);
  for (size_t i = 0; i < w.size(); ++i) {
    w[i] = std::sin(0.37f * i);
    a[i] = w[i] + 0.05f * std::cos(1.7f * i);
    b[i] = w[i] - 0.2f * std::sin(0.3f * i);
  }
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.11f * i * i + 0.5f);
  HessianAccumulator h(cols);
  ASSERT_TRUE(h.Add(x, samples).ok());
  const std::vector<double> m = h.Hessian();
  const std::span<const float> hats[] = {a, b};
  const std::vector<double> both = RelativeOutputErrorsFromMoment(w, hats, rows, cols, m);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_NEAR(both[0], RelativeOutputErrorFromMoment(w, a, rows, cols, m), 1e-12 * both[0]);
  EXPECT_NEAR(both[1], RelativeOutputErrorFromMoment(w, b, rows, cols, m), 1e-12 * both[1]);
  EXPECT_GT(both[1], both[0]);
}

TEST(CalibrationTest, SitesAreSharedAndOnlyRecordedOnce) {
  ModelConfig c;
  c.dim = 4;
  c.hidden_dim = 6;
  c.n_layers = 2;
  CalibrationStats stats(c);
  std::vector<float> x4(4, 1.0f), x6(6, 1.0f);
  for (LayerLinear l : {LayerLinear::kQ, LayerLinear::kK, LayerLinear::kV}) {
    ASSERT_TRUE(stats.Add(1, l, x4, false).ok());
  }
  ASSERT_TRUE(stats.Add(1, LayerLinear::kDown, x6, true).ok());
  EXPECT_EQ(stats.Fit(1, LayerLinear::kV).samples(), 1);
  EXPECT_EQ(stats.Fit(1, LayerLinear::kO).samples(), 0);
  EXPECT_EQ(stats.HeldOut(1, LayerLinear::kDown).cols(), 6);
  EXPECT_EQ(stats.HeldOut(1, LayerLinear::kDown).samples(), 1);
  EXPECT_THAT(stats.Add(2, LayerLinear::kQ, x4, false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no decoder layer 2")));
  EXPECT_THAT(stats.Add(0, LayerLinear::kQ, x6, false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("holds 6 values")));
}

TEST(CalibrationTest, ReadsOneSequencePerLineAndNamesBadItems) {
  testing::TempDir tmp;
  testing::WriteFileOrDie(tmp / "ok.txt", "1 2 3\n\n4,5\n");
  auto seqs = ReadCalibrationFile(tmp / "ok.txt", 10, 8);
  ASSERT_TRUE(seqs.ok()) << seqs.status();
  EXPECT_EQ(*seqs, (std::vector<std::vector<int32_t>>{{1, 2, 3}, {4, 5}}));
  testing::WriteFileOrDie(tmp / "bad.txt", "1 2\n3 10\n");
  auto bad = ReadCalibrationFile(tmp / "bad.txt", 10, 8);
  EXPECT_THAT(bad, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad.txt:2: \"10\"")));
  EXPECT_THAT(ReadCalibrationFile(tmp / "ok.txt", 10, 2),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("ok.txt:1: 3 tokens")));  // longer than the context
  EXPECT_THAT(ReadCalibrationFile(tmp / "missing.txt", 10, 8),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing.txt")));
}

}  // namespace
}  // namespace accllm
