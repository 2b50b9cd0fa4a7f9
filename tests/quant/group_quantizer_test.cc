#include "quant/group_quantizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tests/quant/quant_test_util.h"  // RandomNormal

namespace accllm {
namespace {

using ::accllm::testing::RandomNormal;

double Mse(std::span<const float> w, const GroupParams& p, WeightScheme s, int bits) {
  double e = 0.0;
  for (float v : w) {
    const double d = v - DecodeCode(QuantizeToCode(v, p, s, bits), p, s, bits);
    e += d * d;
  }
  return e / static_cast<double>(w.size());
}

TEST(GroupQuantizerTest, UniformRepresentsTheRangeEnds) {
  for (int bits : {2, 3, 4, 8}) {
    const GroupParams p = UniformParams(-0.3f, 0.9f, bits);
    const float lo = DecodeCode(QuantizeToCode(-0.3f, p, WeightScheme::kUniform, bits), p,
                                WeightScheme::kUniform, bits);
    const float hi = DecodeCode(QuantizeToCode(0.9f, p, WeightScheme::kUniform, bits), p,
                                WeightScheme::kUniform, bits);
    EXPECT_NEAR(lo, -0.3f, 2e-3f) << bits;
    EXPECT_NEAR(hi, 0.9f, 2e-3f) << bits;
    EXPECT_EQ(QuantizeToCode(0.9f, p, WeightScheme::kUniform, bits), MaxCode(bits));
    EXPECT_EQ(QuantizeToCode(5.0f, p, WeightScheme::kUniform, bits), MaxCode(bits));  // clamps
    EXPECT_EQ(QuantizeToCode(-5.0f, p, WeightScheme::kUniform, bits), 0);
    EXPECT_EQ(p.scale, RoundToHalf(p.scale));  // stored precision
    EXPECT_EQ(p.zero, RoundToHalf(p.zero));
  }
}

TEST(GroupQuantizerTest, ConstantGroupsAreExact) {
  for (float c : {0.0f, 0.25f, -3.0f}) {
    const GroupParams p = UniformParams(c, c, 2);
    EXPECT_GT(p.scale, 0.0f);
    EXPECT_FLOAT_EQ(
        DecodeCode(QuantizeToCode(c, p, WeightScheme::kUniform, 2), p, WeightScheme::kUniform, 2),
        c);
  }
  EXPECT_GT(Pow2Params(0.0f, 2).scale, 0.0f);
}

TEST(GroupQuantizerTest, IntegerZeroPointsStayInTheCodeRange) {
  struct Range {
    float lo, hi;
  };
  for (int bits : {2, 3, 4, 8}) {
    for (const Range& r : {Range{-0.3f, 0.9f}, Range{0.2f, 0.9f}, Range{-0.7f, -0.1f},
                           Range{-1.0f, 1e-4f}, Range{0.5f, 0.5f}, Range{-2.0f, -2.0f},
                           Range{0.0f, 0.0f}}) {
      const GroupParams p = UniformParams(r.lo, r.hi, bits, ZeroPoint::kInteger);
      EXPECT_EQ(p.zero, std::nearbyint(p.zero)) << bits << " " << r.lo << " " << r.hi;
      EXPECT_GE(p.zero, 0.0f);
      EXPECT_LE(p.zero, static_cast<float>(MaxCode(bits)));
      EXPECT_EQ(p.scale, RoundToHalf(p.scale));
      for (float w : {r.lo, r.hi}) {  // both ends within half a step (exact for constants)
        const float d = DecodeCode(QuantizeToCode(w, p, WeightScheme::kUniform, bits), p,
                                   WeightScheme::kUniform, bits);
        EXPECT_LE(std::fabs(d - w), r.lo == r.hi ? 0.0f : 0.5f * p.scale + 1e-6f)
            << bits << " [" << r.lo << ", " << r.hi << "] " << w;
      }
    }
  }
  const std::vector<float> w = {-0.4f, 0.1f, 0.3f, 0.05f};
  const GroupParams p = ChooseGroupParams(w, {}, {}, WeightScheme::kUniform, 2,
                                          DefaultClipRatios(), ZeroPoint::kInteger);
  EXPECT_EQ(p.zero, std::nearbyint(p.zero));  // the clip search keeps the zero an integer
}

TEST(GroupQuantizerTest, Pow2CodesArePowersOfTwo) {
  const int bits = 3;  // exponents 0..3, magnitudes 1, 2, 4, 8
  const GroupParams p = Pow2Params(8.0f, bits);
  EXPECT_FLOAT_EQ(p.scale, 1.0f);
  EXPECT_EQ(
      CodeToInt(QuantizeToCode(8.0f, p, WeightScheme::kPow2, bits), WeightScheme::kPow2, bits), 8);
  EXPECT_EQ(
      CodeToInt(QuantizeToCode(-2.9f, p, WeightScheme::kPow2, bits), WeightScheme::kPow2, bits),
      -2);
  EXPECT_EQ(
      CodeToInt(QuantizeToCode(3.1f, p, WeightScheme::kPow2, bits), WeightScheme::kPow2, bits), 4);
  EXPECT_EQ(
      CodeToInt(QuantizeToCode(0.1f, p, WeightScheme::kPow2, bits), WeightScheme::kPow2, bits), 1);
  EXPECT_EQ(QuantizeToCode(-1.0f, p, WeightScheme::kPow2, bits), 0b100);  // sign bit on top
  for (int code = 0; code < 8; ++code) {
    const int v = CodeToInt(static_cast<uint8_t>(code), WeightScheme::kPow2, bits);
    EXPECT_EQ(std::abs(v) & (std::abs(v) - 1), 0) << code;  // a power of two
  }
}

TEST(GroupQuantizerTest, ClipSearchNeverWorseAndHelpsWithOutliers) {
  std::vector<float> w = RandomNormal(64, 1);
  w[5] = 8.0f;  // one outlier stretches the min/max range
  const std::vector<float> ratios = DefaultClipRatios();
  for (WeightScheme s : {WeightScheme::kUniform, WeightScheme::kPow2}) {
    const GroupParams plain = ChooseGroupParams(w, {}, {}, s, 2, std::vector<float>{1.0f});
    const GroupParams clipped = ChooseGroupParams(w, {}, {}, s, 2, ratios);
    EXPECT_LE(Mse(w, clipped, s, 2), Mse(w, plain, s, 2));
  }
  const GroupParams plain =
      ChooseGroupParams(w, {}, {}, WeightScheme::kUniform, 3, std::vector<float>{1.0f});
  const GroupParams clipped = ChooseGroupParams(w, {}, {}, WeightScheme::kUniform, 3, ratios);
  EXPECT_LT(Mse(w, clipped, WeightScheme::kUniform, 3),
            0.95 * Mse(w, plain, WeightScheme::kUniform, 3));
}

TEST(GroupQuantizerTest, KeepMaskExcludesPrunedWeightsFromTheRange) {
  const std::vector<float> w = {0.1f, 100.0f, -0.1f, 0.05f};
  const std::vector<uint8_t> keep = {1, 0, 1, 1};
  const GroupParams p =
      ChooseGroupParams(w, keep, {}, WeightScheme::kUniform, 4, std::vector<float>{1.0f});
  EXPECT_LT(p.scale, 0.02f);
}

}  // namespace
}  // namespace accllm
