#include "quant/weight_format.h"

#include <gmock/gmock.h>  // testing::HasSubstr
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "quant/bit_pack.h"  // PackCodes, UnpackCodes, PaddingIsZero
#include "tests/support/status_matchers.h"

namespace accllm {
namespace {

using ::accllm::testing::StatusIs;
using ::testing::HasSubstr;

WeightFormat Format(int bits, int group, Sparsity sp = Sparsity::kDense,
                    WeightScheme scheme = WeightScheme::kUniform) {
  WeightFormat f;
  f.bits = bits;
  f.group = group;
  f.sparsity = sp;
  f.scheme = scheme;
  return f;
}

TEST(PackedLayoutTest, W2DenseRaggedGroups) {
  // stories260K's FFN: 172 in features = groups of 64, 64, 44.
  absl::StatusOr<PackedLayout> l = ComputePackedLayout(Format(2, 64), 64, 172);
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->num_groups, 3);
  EXPECT_EQ(l->stored_cols, 172);
  EXPECT_EQ(l->qweight_row_bytes, 43);
  EXPECT_EQ(l->mask_row_bytes, 0);
  EXPECT_TRUE(l->has_zeros);
  EXPECT_FALSE(l->has_mask);
  EXPECT_LE(l->bits_per_weight(), 2.6);
}

TEST(PackedLayoutTest, W2G64DenseIsTwoAndAHalfBits) {
  absl::StatusOr<PackedLayout> l = ComputePackedLayout(Format(2, 64), 128, 256);
  ASSERT_TRUE(l.ok());
  EXPECT_DOUBLE_EQ(l->bits_per_weight(), 2.5);  // 2 + (16 + 16) / 64
}

TEST(PackedLayoutTest, TwoFourStoresHalfTheValuesPlusMasks) {
  absl::StatusOr<PackedLayout> l = ComputePackedLayout(Format(2, 64, Sparsity::k2of4), 64, 172);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->stored_cols, 86);
  EXPECT_EQ(l->qweight_row_bytes, 22);  // ceil(86 * 2 / 8)
  EXPECT_EQ(l->mask_row_bytes, 22);     // 43 blocks, two per byte
  EXPECT_TRUE(l->has_mask);
  absl::StatusOr<PackedLayout> even = ComputePackedLayout(Format(2, 64, Sparsity::k2of4), 8, 256);
  ASSERT_TRUE(even.ok());
  EXPECT_DOUBLE_EQ(even->bits_per_weight(), 1.0 + 0.5 + 1.0);  // values + scale/zero + mask
}

TEST(PackedLayoutTest, Pow2HasNoZeros) {
  absl::StatusOr<PackedLayout> l =
      ComputePackedLayout(Format(4, 64, Sparsity::kDense, WeightScheme::kPow2), 4, 128);
  ASSERT_TRUE(l.ok());
  EXPECT_FALSE(l->has_zeros);
  EXPECT_DOUBLE_EQ(l->bits_per_weight(), 4.25);
}

TEST(PackedLayoutTest, RejectsBadFormatsAndShapes) {
  EXPECT_THAT(ComputePackedLayout(Format(5, 64), 4, 64).status().message(), HasSubstr("bits 5"));
  EXPECT_THAT(ComputePackedLayout(Format(8, 64, Sparsity::kDense, WeightScheme::kPow2), 4, 64)
                  .status()
                  .message(),
              HasSubstr("pow2"));
  EXPECT_THAT(ComputePackedLayout(Format(2, 0), 4, 64).status().message(),
              HasSubstr("group size 0"));
  EXPECT_THAT(ComputePackedLayout(Format(2, 30, Sparsity::k2of4), 4, 64).status().message(),
              HasSubstr("multiple of 4"));
  EXPECT_THAT(ComputePackedLayout(Format(2, 64, Sparsity::k2of4), 4, 66).status().message(),
              HasSubstr("(66)"));
  EXPECT_THAT(ComputePackedLayout(Format(2, 64), 0, 64),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("[0, 64]")));
}

TEST(WeightFormatTest, NamesRoundTrip) {
  for (WeightScheme s : {WeightScheme::kUniform, WeightScheme::kPow2}) {
    EXPECT_EQ(*ParseWeightScheme(WeightSchemeName(s)), s);
  }
  for (Sparsity s : {Sparsity::kDense, Sparsity::k2of4}) {
    EXPECT_EQ(*ParseSparsity(SparsityName(s)), s);
  }
  EXPECT_THAT(ParseWeightScheme("log"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("weight scheme \"log\"")));
  EXPECT_THAT(ParseSparsity("1:2"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sparsity \"1:2\"")));
  EXPECT_EQ(Format(2, 64, Sparsity::k2of4).ToString(), "w2 uniform g64 2:4");
  WeightFormat integer = Format(2, 64, Sparsity::k2of4);
  integer.zero_point = ZeroPoint::kInteger;
  EXPECT_EQ(integer.ToString(), "w2 uniform g64 2:4 int-zero");
  for (ZeroPoint z : {ZeroPoint::kFractional, ZeroPoint::kInteger}) {
    EXPECT_EQ(*ParseZeroPoint(ZeroPointName(z)), z);
  }
  EXPECT_THAT(ParseZeroPoint("half"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("zero point \"half\"")));
  EXPECT_TRUE(ValidateWeightFormat(integer).ok());
  integer.scheme = WeightScheme::kPow2;
  EXPECT_THAT(std::string(ValidateWeightFormat(integer).message()),
              ::testing::HasSubstr("zero point integer needs the uniform scheme"));
}

TEST(BitPackTest, RoundTripEveryWidthAndLength) {
  std::mt19937 rng(7);
  for (int bits = 1; bits <= 8; ++bits) {
    for (int n : {1, 2, 3, 7, 8, 9, 43, 64, 86, 172}) {
      std::vector<uint8_t> codes(static_cast<size_t>(n));
      for (uint8_t& c : codes) c = static_cast<uint8_t>(rng() & ((1u << bits) - 1));
      std::vector<uint8_t> packed(static_cast<size_t>(PackedBytes(n, bits)));
      PackCodes(codes, bits, packed);
      EXPECT_TRUE(PaddingIsZero(packed, n, bits));
      std::vector<uint8_t> back(codes.size());
      UnpackCodes(packed, bits, back);
      EXPECT_EQ(back, codes) << "bits " << bits << " n " << n;
    }
  }
}

TEST(BitPackTest, DocumentedByteLayout) {
  std::vector<uint8_t> packed(1);
  PackCodes(std::vector<uint8_t>{1, 2, 3, 0}, 2, packed);
  EXPECT_EQ(packed[0], 0b00'11'10'01);  // code j at bits 2j
  std::vector<uint8_t> nib(1);
  PackCodes(std::vector<uint8_t>{0xA, 0x5}, 4, nib);
  EXPECT_EQ(nib[0], 0x5A);  // low nibble = even index
  std::vector<uint8_t> three(3);
  PackCodes(std::vector<uint8_t>{7, 0, 0, 0, 0, 0, 0, 5}, 3, three);
  EXPECT_EQ(three[0], 0x07);
  EXPECT_EQ(three[2], 0xA0);  // code 7 at stream bits 21..23
  packed[0] = 0x40;           // a bit beyond 3 two-bit codes
  EXPECT_FALSE(PaddingIsZero(packed, 3, 2));
}

}  // namespace
}  // namespace accllm
