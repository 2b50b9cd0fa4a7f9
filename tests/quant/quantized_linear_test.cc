#include "quant/quantized_linear.h"

#include <gmock/gmock.h>  // testing::HasSubstr
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "model/dtype.h"                  // FloatToHalf
#include "quant/group_quantizer.h"        // DecodeCode
#include "quant/sparse24.h"               // Select24Mask, Is24Pattern
#include "tests/quant/quant_test_util.h"  // AllFormats, RandomNormal

namespace accllm {
namespace {

using ::accllm::testing::AllFormats;
using ::accllm::testing::RandomNormal;
using ::testing::AllOf;
using ::testing::HasSubstr;

// Random codes, a random 2:4 pattern where needed, random fp16 parameters.
UnpackedLinear RandomUnpacked(const WeightFormat& f, int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  UnpackedLinear u;
  u.format = f;
  u.rows = rows;
  u.cols = cols;
  u.codes.resize(static_cast<size_t>(rows * cols));
  for (uint8_t& c : u.codes) c = static_cast<uint8_t>(rng() % (MaxCode(f.bits) + 1));
  if (f.sparsity == Sparsity::k2of4) {
    u.keep = Select24Mask(RandomNormal(u.codes.size(), seed + 1), rows, cols);
    for (size_t i = 0; i < u.codes.size(); ++i) {
      if (!u.keep[i]) u.codes[i] = 0;  // pruned codes are not stored
    }
  }
  const int64_t groups = (cols + f.group - 1) / f.group;
  for (int64_t i = 0; i < rows * groups; ++i) {
    u.scales.push_back(RoundToHalf(0.01f + 0.001f * static_cast<float>(rng() % 100)));
    if (f.scheme == WeightScheme::kUniform) {
      u.zeros.push_back(RoundToHalf(static_cast<float>(rng() % 256) / 16.0f));
    }
  }
  return u;
}

TEST(QuantizedLinearTest, PackUnpackRoundTripEveryFormatAndRaggedShape) {
  for (const WeightFormat& f : AllFormats(16)) {
    for (auto [rows, cols] : {std::pair<int64_t, int64_t>{3, 172}, {5, 36}, {1, 4}, {2, 64}}) {
      SCOPED_TRACE(f.ToString() + " [" + std::to_string(rows) + ", " + std::to_string(cols) + "]");
      const UnpackedLinear u = RandomUnpacked(f, rows, cols, 11);
      absl::StatusOr<QuantizedLinear> q = PackLinear(u);
      ASSERT_TRUE(q.ok()) << q.status();
      EXPECT_EQ(q->qweight.size(), static_cast<size_t>(q->layout.qweight_bytes()));
      const UnpackedLinear back = UnpackLinear(q->view());
      EXPECT_EQ(back.codes, u.codes);
      EXPECT_EQ(back.keep, u.keep);
      EXPECT_EQ(back.scales, u.scales);
      EXPECT_EQ(back.zeros, u.zeros);
      if (f.sparsity == Sparsity::k2of4) {
        EXPECT_TRUE(Is24Pattern(back.keep, rows, cols));
      }
    }
  }
}

TEST(QuantizedLinearTest, DequantizeDecodesEveryWeightAndZeroesPruned) {
  WeightFormat f;
  f.bits = 3;
  f.group = 8;
  f.sparsity = Sparsity::k2of4;
  const UnpackedLinear u = RandomUnpacked(f, 4, 20, 3);
  absl::StatusOr<QuantizedLinear> q = PackLinear(u);
  ASSERT_TRUE(q.ok()) << q.status();
  const std::vector<float> w = DequantizeLinear(q->view());
  for (int64_t r = 0; r < 4; ++r) {
    int nonzero_in_block = 0;
    for (int64_t c = 0; c < 20; ++c) {
      const size_t i = static_cast<size_t>(r * 20 + c);
      const int64_t g = r * 3 + c / 8;
      GroupParams p{u.scales[static_cast<size_t>(g)], u.zeros[static_cast<size_t>(g)]};
      EXPECT_FLOAT_EQ(w[i], u.keep[i] ? DecodeCode(u.codes[i], p, f.scheme, f.bits) : 0.0f);
      nonzero_in_block += u.keep[i];
      if (c % 4 == 3) {
        EXPECT_EQ(nonzero_in_block, 2);
        nonzero_in_block = 0;
      }
    }
  }
}

TEST(QuantizedLinearTest, PackRejectsBadInput) {
  WeightFormat f;
  f.bits = 2;
  f.group = 8;
  UnpackedLinear u = RandomUnpacked(f, 2, 16, 5);
  u.codes[3] = 4;
  EXPECT_THAT(PackLinear(u).status().message(), HasSubstr("exceeds 2 bits"));
  f.sparsity = Sparsity::k2of4;
  u = RandomUnpacked(f, 2, 16, 5);
  u.keep[0] = 1;
  u.keep[1] = 1;
  u.keep[2] = 1;
  EXPECT_THAT(PackLinear(u).status().message(), HasSubstr("not 2:4"));
}

TEST(QuantizedLinearTest, ValidateFindsCorruption) {
  WeightFormat f;
  f.bits = 2;
  f.group = 8;
  f.sparsity = Sparsity::k2of4;
  absl::StatusOr<QuantizedLinear> good = PackLinear(RandomUnpacked(f, 2, 12, 9));
  ASSERT_TRUE(good.ok());
  {
    QuantizedLinear q = *good;
    q.mask[0] = 0x17;  // block 0 keeps three
    EXPECT_THAT(ValidateQuantizedLinear(q.view()).message(), HasSubstr("mask[0] block 0"));
  }
  {
    QuantizedLinear q = *good;
    q.mask[1] |= 0x30;  // 3 blocks per row: the high nibble of byte 1 is padding
    EXPECT_THAT(ValidateQuantizedLinear(q.view()).message(), HasSubstr("padding nibble"));
  }
  {
    QuantizedLinear q = *good;
    q.qweight[1] |= 0xC0;  // 6 codes x 2 bits = 12 bits: bits 4..7 of byte 1 are padding
    EXPECT_THAT(ValidateQuantizedLinear(q.view()).message(), HasSubstr("padding bits"));
  }
  {
    QuantizedLinear q = *good;
    q.scales[1] = FloatToHalf(-1.0f);
    EXPECT_THAT(ValidateQuantizedLinear(q.view()).message(), HasSubstr("scales[0, 1]"));
  }
  {
    QuantizedLinear q = *good;
    q.zeros[2] = 0x7C00;  // +inf
    EXPECT_THAT(ValidateQuantizedLinear(q.view()).message(), HasSubstr("zeros[1, 0]"));
  }
  {
    QuantizedLinear q = *good;
    q.qweight.pop_back();
    EXPECT_THAT(ValidateQuantizedLinear(q.view()).message(), HasSubstr("qweight holds"));
  }
}

// A format that promises integer zero points (the 2:4 CPU kernel relies on it) is checked.
TEST(QuantizedLinearTest, IntegerZeroPointsAreChecked) {
  WeightFormat f;
  f.bits = 2;
  f.group = 8;
  f.sparsity = Sparsity::k2of4;
  f.zero_point = ZeroPoint::kInteger;
  UnpackedLinear u = RandomUnpacked(f, 2, 12, 9);
  for (size_t i = 0; i < u.zeros.size(); ++i) u.zeros[i] = static_cast<float>(i % 4);
  absl::StatusOr<QuantizedLinear> good = PackLinear(u);
  ASSERT_TRUE(good.ok()) << good.status();
  for (float bad : {1.5f, -1.0f, 4.0f}) {
    QuantizedLinear q = *good;
    q.zeros[3] = FloatToHalf(bad);
    EXPECT_THAT(ValidateQuantizedLinear(q.view()).message(),
                AllOf(HasSubstr("zeros[1, 1]"), HasSubstr("expected an integer in 0 .. 3")))
        << bad;
  }
  u.format.zero_point = ZeroPoint::kFractional;
  u.zeros[0] = 0.5f;
  EXPECT_TRUE(PackLinear(u).ok());  // fractional formats take any finite zero
}

}  // namespace
}  // namespace accllm
