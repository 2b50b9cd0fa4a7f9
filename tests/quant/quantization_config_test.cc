#include "quant/quantization_config.h"

#include <gmock/gmock.h>  // testing::HasSubstr
#include <gtest/gtest.h>

namespace accllm {
namespace {

using ::testing::HasSubstr;

constexpr char kExample[] = R"({
  "quant_method": "accllm", "version": 1,
  "weights": {"bits": 2, "scheme": "uniform", "group_size": 64, "sparsity": "dense"},
  "layers": {"model.layers.0.self_attn.q_proj":
                 {"bits": 2, "scheme": "uniform", "group_size": 64, "sparsity": "2:4"},
             "model.layers.0.mlp.down_proj":
                 {"bits": 4, "scheme": "pow2", "group_size": 32, "sparsity": "dense"}},
  "activations": {"bits": 8},
  "kv_cache": {"bits": 4, "rotate_keys": true, "sink_tokens": 4},
  "rotations": {"model.layers.0.mlp.down_proj": {"kind": "hadamard", "seed": 7},
                "model.layers.0.mlp.up_proj": {"kind": "matrix"}},
  "embedding": {"bits": 8}, "lm_head": {"bits": 16}
})";

std::string Error(std::string_view json) {
  absl::StatusOr<QuantizationConfig> c = ParseQuantizationConfig(json, "m/config.json");
  return c.ok() ? "ok" : std::string(c.status().message());
}

TEST(QuantizationConfigTest, ParsesTheSchemaExample) {
  absl::StatusOr<QuantizationConfig> c = ParseQuantizationConfig(kExample, "config.json");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->layers.size(), 2u);
  const WeightFormat* q = c->LayerFormat("model.layers.0.self_attn.q_proj");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->bits, 2);
  EXPECT_EQ(q->sparsity, Sparsity::k2of4);
  EXPECT_EQ(c->LayerFormat("model.layers.0.self_attn.k_proj"), nullptr);
  EXPECT_EQ(c->activation_bits, 8);
  EXPECT_EQ(c->kv_cache.bits, 4);
  EXPECT_EQ(c->kv_cache.sink_tokens, 4);
  const RotationSpec* r = c->LayerRotation("model.layers.0.mlp.down_proj");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->kind, RotationSpec::Kind::kHadamard);
  EXPECT_EQ(r->seed, 7u);
  EXPECT_EQ(c->LayerRotation("model.layers.0.mlp.up_proj")->kind, RotationSpec::Kind::kMatrix);
  EXPECT_EQ(c->embedding_bits, 8);
  EXPECT_EQ(c->lm_head_bits, 16);
}

TEST(QuantizationConfigTest, RoundTrips) {
  absl::StatusOr<QuantizationConfig> c = ParseQuantizationConfig(kExample, "config.json");
  ASSERT_TRUE(c.ok()) << c.status();
  const std::string text = QuantizationConfigToJson(*c);
  absl::StatusOr<QuantizationConfig> back = ParseQuantizationConfig(text, "config.json");
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << text;
  EXPECT_EQ(*back, *c);
  EXPECT_EQ(QuantizationConfigToJson(*back), text);

  QuantizationConfig defaults;
  absl::StatusOr<QuantizationConfig> d =
      ParseQuantizationConfig(QuantizationConfigToJson(defaults), "x");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(*d, defaults);
}

TEST(QuantizationConfigTest, StrictErrorsNameTheField) {
  EXPECT_THAT(Error("{"), HasSubstr("not valid JSON"));
  EXPECT_THAT(Error("[]"), HasSubstr("expected an object"));
  EXPECT_THAT(Error(R"({"version": 1})"), HasSubstr("quant_method is missing"));
  EXPECT_THAT(Error(R"({"quant_method": "gptq"})"), HasSubstr("quant_method"));
  EXPECT_THAT(Error(R"({"quant_method": "accllm", "version": 2})"), HasSubstr("version"));
  EXPECT_THAT(Error(R"({"quant_method": "accllm", "colour": 2})"),
              HasSubstr("quantization_config.colour is unknown"));
  EXPECT_THAT(Error(R"({"quant_method": "accllm", "activations": {"bits": 4}})"),
              HasSubstr("activations.bits is 4"));
  EXPECT_THAT(Error(R"({"quant_method": "accllm", "activations": {"bits": "8"}})"),
              HasSubstr("activations.bits is a string"));
  EXPECT_THAT(Error(R"({"quant_method": "accllm", "embedding": {"bits": 4}})"),
              HasSubstr("embedding.bits"));
  EXPECT_THAT(Error(R"({"quant_method": "accllm", "lm_head": {"bitz": 8}})"),
              HasSubstr("lm_head.bitz is unknown"));
  EXPECT_THAT(Error(R"({"quant_method": "accllm", "kv_cache": {"bits": 5}})"),
              HasSubstr("kv_cache"));
  EXPECT_THAT(Error(R"({"quant_method": "accllm", "layers": {"a": {"bits": 9}}})"),
              HasSubstr("layers[\"a\"]"));
  EXPECT_THAT(Error(R"({"quant_method": "accllm", "layers": {"a": {"bits": 2, "x": 1}}})"),
              HasSubstr("\"x\""));
  EXPECT_THAT(Error(R"({"quant_method": "accllm", "rotations": {"a": {"kind": "givens"}}})"),
              HasSubstr("rotations[\"a\"].kind"));
  EXPECT_THAT(Error(R"({"quant_method": "accllm", "rotations": {"a": {"seed": 1}}})"),
              HasSubstr("rotations[\"a\"].kind is missing"));
  EXPECT_THAT(Error(R"({"quant_method": "accllm", "rotations": {"a": {"kind": "hadamard",
              "seed": -1}}})"),
              HasSubstr("seed"));
  EXPECT_THAT(Error(R"({"quant_method": "accllm", "rotations": {"a": {"kind": "matrix",
              "seed": 1}}})"),
              HasSubstr("seed"));
  EXPECT_THAT(Error(R"({"quant_method": "accllm"})"), "ok");
  EXPECT_THAT(Error(R"({"quant_method": "accllm", "activations": 8})"), HasSubstr("m/config.json"));
}

}  // namespace
}  // namespace accllm
