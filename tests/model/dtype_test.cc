#include "model/dtype.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "model/tensor.h"
#include "tests/support/status_matchers.h"

namespace accllm {
namespace {

using ::accllm::testing::StatusIs;
using ::testing::HasSubstr;

TEST(DTypeTest, NamesRoundTrip) {
  for (DType d : {DType::kF64, DType::kF32, DType::kF16, DType::kBF16, DType::kI64, DType::kI32,
                  DType::kI16, DType::kI8, DType::kU8, DType::kBool}) {
    absl::StatusOr<DType> back = ParseDType(DTypeName(d));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, d);
  }
  EXPECT_THAT(ParseDType("F8_E4M3"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"F8_E4M3\"")));
  EXPECT_EQ(DTypeSize(DType::kBF16), 2u);
}

TEST(DTypeTest, HalfRoundTripsEveryFiniteValue) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = HalfToFloat(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    EXPECT_EQ(FloatToHalf(f), h) << std::hex << h;
  }
}

TEST(DTypeTest, HalfRoundsToNearestEvenAndSaturatesToInf) {
  EXPECT_EQ(FloatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(FloatToHalf(1.0f + 1.0f / 2048), 0x3c00);  // tie → even
  EXPECT_EQ(FloatToHalf(1.0f + 3.0f / 2048), 0x3c02);  // tie → even (up)
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(FloatToHalf(1e6f), 0x7c00);
  EXPECT_EQ(FloatToHalf(-1e6f), 0xfc00);
  EXPECT_EQ(FloatToHalf(5.9604645e-8f), 0x0001);  // smallest subnormal
  EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(std::numeric_limits<float>::quiet_NaN()))));
}

TEST(DTypeTest, Bfloat16RoundsToNearestEven) {
  EXPECT_EQ(FloatToBF16(1.0f), 0x3f80);
  EXPECT_FLOAT_EQ(BF16ToFloat(FloatToBF16(3.140625f)), 3.140625f);
  uint32_t bits = 0x3f808000;  // exactly halfway between 0x3f80 and 0x3f81
  float f;
  std::memcpy(&f, &bits, 4);
  EXPECT_EQ(FloatToBF16(f), 0x3f80);
  bits = 0x3f818000;
  std::memcpy(&f, &bits, 4);
  EXPECT_EQ(FloatToBF16(f), 0x3f82);
}

TEST(TensorTest, ConvertsFloatDtypesAndRejectsOthers) {
  const std::vector<float> values = {1.5f, -2.25f, 0.0f, 1024.0f};
  for (DType d : {DType::kF32, DType::kF16, DType::kBF16}) {
    std::vector<std::byte> bytes = EncodeFloat32(values, d);
    TensorView t{"t", d, {2, 2}, bytes};
    std::vector<float> back(4);
    ASSERT_TRUE(ConvertToFloat32(t, back).ok());
    EXPECT_EQ(back, values);
  }
  std::vector<std::byte> ints(16);
  TensorView t{"ids", DType::kI32, {4}, ints};
  std::vector<float> out(4);
  absl::Status s = ConvertToFloat32(t, out);
  EXPECT_THAT(s,
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tensor ids has dtype I32")));
  TensorView wrong{"w", DType::kF32, {5}, ints};
  std::vector<float> five(5);
  EXPECT_THAT(ConvertToFloat32(wrong, five),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("tensor w: 16 bytes do not match shape [5]")));
}

}  // namespace
}  // namespace accllm
