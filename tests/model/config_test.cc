#include "model/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/status_matchers.h"

namespace accllm {
namespace {

using ::accllm::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kTinyLlama[] = R"({
  "architectures": ["LlamaForCausalLM"], "model_type": "llama",
  "hidden_size": 2048, "intermediate_size": 5632, "num_hidden_layers": 22,
  "num_attention_heads": 32, "num_key_value_heads": 4, "vocab_size": 32000,
  "max_position_embeddings": 2048, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
  "tie_word_embeddings": false, "bos_token_id": 1, "eos_token_id": 2,
  "torch_dtype": "bfloat16", "hidden_act": "silu"})";

TEST(ModelConfigTest, ParsesHuggingFaceLlamaConfig) {
  absl::StatusOr<ModelConfig> c = ParseModelConfig(kTinyLlama, "config.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->dim, 2048);
  EXPECT_EQ(c->hidden_dim, 5632);
  EXPECT_EQ(c->n_layers, 22);
  EXPECT_EQ(c->n_heads, 32);
  EXPECT_EQ(c->n_kv_heads, 4);
  EXPECT_EQ(c->head_dim(), 64);
  EXPECT_EQ(c->kv_dim(), 256);
  EXPECT_EQ(c->vocab_size, 32000);
  EXPECT_EQ(c->max_seq_len, 2048);
  EXPECT_DOUBLE_EQ(c->norm_eps, 1e-5);
  EXPECT_FALSE(c->tie_embeddings);
  EXPECT_EQ(c->eos_token_ids, std::vector<int32_t>{2});
  EXPECT_EQ(c->torch_dtype, "bfloat16");
}

TEST(ModelConfigTest, RoundTripsThroughJson) {
  absl::StatusOr<ModelConfig> c = ParseModelConfig(kTinyLlama, "a");
  ASSERT_TRUE(c.ok());
  c->eos_token_ids = {2, 7};
  c->tie_embeddings = true;
  c->rope_theta = 500000.0;
  absl::StatusOr<ModelConfig> back = ParseModelConfig(ModelConfigToJson(*c), "b");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->eos_token_ids, c->eos_token_ids);
  EXPECT_TRUE(back->tie_embeddings);
  EXPECT_DOUBLE_EQ(back->rope_theta, 500000.0);
  EXPECT_EQ(ModelConfigToJson(*back), ModelConfigToJson(*c));
}

TEST(ModelConfigTest, KvHeadsDefaultToHeads) {
  absl::StatusOr<ModelConfig> c = ParseModelConfig(
      R"({"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1,
          "num_attention_heads": 4, "vocab_size": 10})",
      "x");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->n_kv_heads, 4);
}

struct BadConfig {
  const char* name;
  std::string json;
  const char* message;
};

void PrintTo(const BadConfig& c, std::ostream* os) { *os << c.name; }

class BadConfigTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(BadConfigTest, GivesAnErrorNamingTheField) {
  absl::StatusOr<ModelConfig> c = ParseModelConfig(GetParam().json, "dir/config.json");
  EXPECT_THAT(c, StatusIs(absl::StatusCode::kInvalidArgument,
                          AllOf(HasSubstr("dir/config.json"), HasSubstr(GetParam().message))));
}

std::string With(const std::string& field, const std::string& value) {
  std::string base = R"({"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
      "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 100)";
  if (!field.empty()) base += ", \"" + field + "\": " + value;
  return base + "}";
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadConfigTest,
    ::testing::Values(
        BadConfig{"not_json", "{oops", "not valid JSON"},
        BadConfig{"not_object", "[1, 2]", "not a JSON object"},
        BadConfig{"missing_hidden",
                  R"({"intermediate_size": 1, "num_hidden_layers": 1, "num_attention_heads": 1,
                      "vocab_size": 1})",
                  "hidden_size"},
        BadConfig{"string_layers", With("num_hidden_layers", "\"two\""), "num_hidden_layers"},
        BadConfig{"float_vocab", With("vocab_size", "10.5"), "vocab_size"},
        BadConfig{"negative_layers", With("num_hidden_layers", "-3"), "num_hidden_layers"},
        BadConfig{"kv_not_dividing", With("num_key_value_heads", "3"), "num_key_value_heads"},
        BadConfig{"huge", With("hidden_size", "99999999999"), "hidden_size"},
        // Found by tests/fuzz/model_config: sizes derived from these overflowed int64.
        BadConfig{"hidden_over_limit", With("hidden_size", "2147483644"),
                  "hidden_size 2147483644 exceeds the limit"},
        BadConfig{"intermediate_over_limit", With("intermediate_size", "8388608"),
                  "intermediate_size 8388608 exceeds the limit"},
        BadConfig{"layers_over_limit", With("num_hidden_layers", "131072"),
                  "num_hidden_layers 131072 exceeds the limit"},
        BadConfig{"vocab_over_limit", With("vocab_size", "33554432"),
                  "vocab_size 33554432 exceeds the limit"},
        BadConfig{"heads_not_dividing", With("num_attention_heads", "5"), "num_attention_heads"},
        BadConfig{"odd_head_dim", With("num_attention_heads", "64"), "even"},
        BadConfig{"eos_out_of_vocab", With("eos_token_id", "[2, 100]"), "eos_token_id 100"},
        BadConfig{"bos_out_of_vocab", With("bos_token_id", "-1"), "bos_token_id"},
        BadConfig{"eos_not_int", With("eos_token_id", "\"x\""), "eos_token_id"},
        BadConfig{"zero_eps", With("rms_norm_eps", "0"), "rms_norm_eps"},
        BadConfig{"bad_theta", With("rope_theta", "-1"), "rope_theta"},
        BadConfig{"tie_not_bool", With("tie_word_embeddings", "1"), "tie_word_embeddings"},
        BadConfig{"rope_scaling", With("rope_scaling", R"({"type": "linear"})"), "rope_scaling"},
        BadConfig{"other_arch", With("model_type", "\"gpt2\""), "gpt2"},
        BadConfig{"bad_quant", With("quantization_config", "3"), "quantization_config"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ModelConfigTest, ReadModelConfigNamesMissingFile) {
  absl::StatusOr<ModelConfig> c = ReadModelConfig("/nonexistent/config.json");
  EXPECT_THAT(c, StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/config.json")));
}

TEST(ModelConfigTest, LinearParameterCountOfTinyLlama) {
  absl::StatusOr<ModelConfig> c = ParseModelConfig(kTinyLlama, "a");
  ASSERT_TRUE(c.ok());
  // 22 × (2·2048² + 2·2048·256 + 3·2048·5632) + 2·32000·2048 = 1,099,956,224
  EXPECT_EQ(c->LinearParameterCount(), 1099956224);
}

}  // namespace
}  // namespace accllm
