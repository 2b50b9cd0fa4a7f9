#include "quant/quant_config_json.h"

#include <gmock/gmock.h>  // testing::HasSubstr
#include <gtest/gtest.h>

#include "tests/quant/quant_test_util.h"  // AllFormats

namespace accllm {
namespace {

using ::accllm::testing::AllFormats;
using ::testing::HasSubstr;

constexpr char kWhere[] = "config.json: quantization_config.layers[\"q_proj\"]";

std::string Error(std::string_view json) {
  absl::StatusOr<WeightFormat> f = ParseWeightFormatJson(json, kWhere);
  return f.ok() ? "ok" : std::string(f.status().message());
}

TEST(QuantConfigJsonTest, WeightFormatRoundTrip) {
  for (const WeightFormat& f : AllFormats(32)) {
    absl::StatusOr<WeightFormat> back = ParseWeightFormatJson(WeightFormatToJson(f), kWhere);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(*back, f);
  }
  WeightFormat f;
  f.bits = 2;
  f.sparsity = Sparsity::k2of4;
  f.zero_point = ZeroPoint::kInteger;
  EXPECT_EQ(WeightFormatToJson(f),
            R"({"bits":2,"group_size":64,"scheme":"uniform","sparsity":"2:4","zero_point":"integer"})");
  EXPECT_EQ(*ParseWeightFormatJson(WeightFormatToJson(f), kWhere), f);
  f.scheme = WeightScheme::kPow2;  // pow2 has no zero points: the field is left out
  f.zero_point = ZeroPoint::kFractional;
  EXPECT_EQ(WeightFormatToJson(f), R"({"bits":2,"group_size":64,"scheme":"pow2","sparsity":"2:4"})");
}

TEST(QuantConfigJsonTest, MissingFieldsTakeDefaults) {
  absl::StatusOr<WeightFormat> f = ParseWeightFormatJson(R"({"bits": 2})", kWhere);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->group, 64);
  EXPECT_EQ(f->scheme, WeightScheme::kUniform);
  EXPECT_EQ(f->sparsity, Sparsity::kDense);
  EXPECT_EQ(f->zero_point, ZeroPoint::kFractional);  // files written before the field
}

TEST(QuantConfigJsonTest, ErrorsNameTheField) {
  EXPECT_THAT(Error("{"), HasSubstr("invalid JSON"));
  EXPECT_THAT(Error("[]"), HasSubstr("is an array, expected an object"));
  EXPECT_THAT(Error(R"({"bits": "2"})"), HasSubstr("field \"bits\" is a string"));
  EXPECT_THAT(Error(R"({"bits": 5})"), HasSubstr("field \"bits\""));
  EXPECT_THAT(Error(R"({"bits": 2.5})"), HasSubstr("expected an integer"));
  EXPECT_THAT(Error(R"({"group_size": 0})"), HasSubstr("field \"group_size\""));
  EXPECT_THAT(Error(R"({"scheme": "log"})"), HasSubstr("field \"scheme\""));
  EXPECT_THAT(Error(R"({"sparsity": "1:2"})"), HasSubstr("field \"sparsity\""));
  EXPECT_THAT(Error(R"({"group_size": 30, "sparsity": "2:4"})"), HasSubstr("field \"group_size\""));
  EXPECT_THAT(Error(R"({"bitz": 2})"), HasSubstr("field \"bitz\" is unknown"));
  EXPECT_THAT(Error(R"({"zero_point": "half"})"), HasSubstr("field \"zero_point\""));
  EXPECT_THAT(Error(R"({"zero_point": 1})"), HasSubstr("field \"zero_point\" is a number"));
  EXPECT_THAT(Error(R"({"scheme": "pow2", "zero_point": "integer"})"),
              HasSubstr("field \"zero_point\""));
  EXPECT_THAT(Error(R"({"bits": 8, "scheme": "pow2"})"), HasSubstr("field \"bits\""));
  EXPECT_THAT(Error(R"({"bits": 99999999999})"), HasSubstr("out of range"));
  EXPECT_THAT(Error("{}"), ::testing::Eq("ok"));
  EXPECT_THAT(Error(R"({"bits": 5})"), HasSubstr(kWhere));
}

TEST(QuantConfigJsonTest, KvFormat) {
  KvFormat f;
  f.bits = 4;
  f.rotate_keys = false;
  f.sink_tokens = 2;
  absl::StatusOr<KvFormat> back = ParseKvFormatJson(KvFormatToJson(f), "kv");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, f);
  EXPECT_THAT(ParseKvFormatJson(R"({"bits": 3})", "kv").status().message(),
              HasSubstr("field \"bits\""));
  EXPECT_THAT(ParseKvFormatJson(R"({"rotate_keys": 1})", "kv").status().message(),
              HasSubstr("field \"rotate_keys\""));
  EXPECT_THAT(ParseKvFormatJson(R"({"sink_tokens": -1})", "kv").status().message(),
              HasSubstr("field \"sink_tokens\""));
  EXPECT_THAT(ParseKvFormatJson(R"({"window": 4})", "kv").status().message(),
              HasSubstr("field \"window\" is unknown"));
}

}  // namespace
}  // namespace accllm
