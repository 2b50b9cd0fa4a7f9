#include "model/synth.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/model_dir.h"
#include "model/tensor.h"
#include "model/tensor_names.h"
#include "tests/support/status_matchers.h"
#include "tests/support/test_env.h"

namespace accllm {
namespace {

using ::accllm::testing::StatusIs;
using ::testing::HasSubstr;

TEST(SynthTest, KnownShapesHaveTheRealDimensions) {
  absl::StatusOr<ModelConfig> tl = SynthShape("tinyllama-1.1b");
  ASSERT_TRUE(tl.ok());
  EXPECT_EQ(tl->dim, 2048);
  EXPECT_EQ(tl->n_layers, 22);
  EXPECT_EQ(tl->n_heads, 32);
  EXPECT_EQ(tl->n_kv_heads, 4);
  EXPECT_EQ(tl->hidden_dim, 5632);
  EXPECT_EQ(tl->vocab_size, 32000);
  absl::StatusOr<ModelConfig> l7 = SynthShape("llama2-7b");
  ASSERT_TRUE(l7.ok());
  EXPECT_EQ(l7->dim, 4096);
  EXPECT_EQ(l7->hidden_dim, 11008);
  EXPECT_EQ(l7->n_layers, 32);
  EXPECT_EQ(l7->n_kv_heads, 32);
  absl::StatusOr<ModelConfig> bad = SynthShape("gpt5");
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("tinyllama-1.1b"));
}

TEST(SynthTest, TinyModelIsACompleteDirectoryWithTokenizer) {
  testing::TempDir tmp;
  absl::StatusOr<ModelConfig> c = SynthShape("tiny");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(WriteSynthModel(*c, tmp / "m", {.seed = 3, .dtype = std::nullopt}).ok());
  absl::StatusOr<ModelDir> dir = OpenModelDir(tmp / "m");
  ASSERT_TRUE(dir.ok()) << dir.status();
  ASSERT_NE(dir->tokenizer, nullptr);
  EXPECT_EQ(dir->tokenizer->vocab_size(), c->vocab_size);
  absl::StatusOr<std::vector<int32_t>> ids = dir->tokenizer->Encode("hello world", true);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*dir->tokenizer->Decode(std::span(*ids).subspan(1)), "hello world");

  // Weights have the intended spread; norms are ones; the seed decides the values.
  std::vector<float> w = ToFloat32Vector(*dir->tensors->Get(LinearName(0, LayerLinear::kQ)));
  double sum2 = 0;
  for (float v : w) sum2 += v * v;
  EXPECT_NEAR(std::sqrt(sum2 / w.size()), 0.02, 0.002);
  EXPECT_EQ(ToFloat32Vector(*dir->tensors->Get(kFinalNormName)), std::vector<float>(c->dim, 1.0f));
  ASSERT_TRUE(WriteSynthModel(*c, tmp / "again", {.seed = 3, .dtype = std::nullopt}).ok());
  ASSERT_TRUE(WriteSynthModel(*c, tmp / "other", {.seed = 4, .dtype = std::nullopt}).ok());
  auto q = [&](const char* sub) {
    return ToFloat32Vector(*OpenModelDir(tmp / sub)->tensors->Get(LinearName(0, LayerLinear::kQ)));
  };
  EXPECT_EQ(q("again"), w);
  EXPECT_NE(q("other"), w);
}

TEST(SynthTest, HalfPrecisionOption) {
  testing::TempDir tmp;
  absl::StatusOr<ModelConfig> c = SynthShape("tiny");
  ASSERT_TRUE(WriteSynthModel(*c, tmp / "m", {.seed = 1, .dtype = DType::kBF16}).ok());
  absl::StatusOr<ModelDir> dir = OpenModelDir(tmp / "m");
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(dir->tensors->Get(kEmbeddingName)->dtype, DType::kBF16);
  EXPECT_THAT(WriteSynthModel(*c, tmp / "x", {.dtype = DType::kI8}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("got I8")));
}

}  // namespace
}  // namespace accllm
