// The default model shipped in models/docs27m-w4: it loads, it is what its README says
// (docs27m, W4 g32 GPTQ, A8, KV4, int8 embedding and head, ≤ 20 MB), greedy generation
// writes English words (a golden continuation), and its perplexity on docs27m's held-out
// text stays within the measured bound of the float model's.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"      // absl::StrSplit
#include "model/model_dir.h"             // OpenModelDir
#include "nlohmann/json.hpp"             // nlohmann::json
#include "quant/quantization_config.h"   // ParseQuantizationConfig
#include "tests/support/test_env.h"      // RunAccllm, SharedModelDir
#include "workers/engine/llama_model.h"  // LlamaModel

namespace accllm {
namespace {

namespace fs = std::filesystem;
using ::accllm::testing::CommandResult;
using ::accllm::testing::RunAccllm;

fs::path ShippedModel() { return fs::path(ACCLLM_MODELS_DIR) / "docs27m-w4"; }

// The prompt and greedy continuation the README shows (A8 KV4 runs are deterministic:
// the kernels are bit-exact with their scalar oracles on every SIMD target). If a change
// to the engine's arithmetic moves it, regenerate with the README's command and check
// that it still reads as English.
constexpr char kPrompt[] = "The git commit command";
constexpr int kGoldenTokens = 32;
constexpr char kGolden[] =
    " creates a new commit object, which is used to create a new commit object, and then "
    "creates a new commit object.\nThe commit object is a special object\n";

// docs27m in float on reference/heldout_4096.txt at context 512: ppl 14.367 (accllm
// perplexity of the converted bf16 model; measured once rather than here, where the float
// path takes minutes). The shipped model measured 14.644 (1.019x) when it was made; the
// bound leaves a little room for changes in the engine's A8/KV4 arithmetic.
constexpr double kFloatPpl = 14.367;
constexpr double kPplRatioBound = 1.03;

// Fraction of whitespace-separated words made only of ASCII letters, digits and the
// punctuation English text carries.
double EnglishWordFraction(const std::string& text) {
  std::vector<std::string> words = absl::StrSplit(text, ' ', absl::SkipWhitespace());
  int english = 0;
  for (const std::string& w : words) {
    bool ok = !w.empty();
    int letters = 0;
    for (unsigned char c : w) {
      if (std::isalpha(c)) ++letters;
      if (c >= 0x80 || (!std::isalnum(c) && !std::ispunct(c) && !std::isspace(c))) ok = false;
    }
    if (ok && letters > 0) ++english;
  }
  return words.empty() ? 0.0 : static_cast<double>(english) / words.size();
}

TEST(ShippedModelTest, LoadsWithTheShapeAndQuantizationItsReadmeStates) {
  absl::StatusOr<ModelDir> dir = OpenModelDir(ShippedModel());
  ASSERT_TRUE(dir.ok()) << dir.status();
  const ModelConfig& c = dir->config;
  EXPECT_EQ(c.dim, 512);
  EXPECT_EQ(c.hidden_dim, 1408);
  EXPECT_EQ(c.n_layers, 8);
  EXPECT_EQ(c.n_heads, 8);
  EXPECT_EQ(c.n_kv_heads, 2);
  EXPECT_EQ(c.vocab_size, 4096);
  EXPECT_FALSE(c.tie_embeddings);
  ASSERT_NE(dir->tokenizer, nullptr) << "the shipped model must carry its tokenizer";

  absl::StatusOr<QuantizationConfig> q =
      ParseQuantizationConfig(c.quantization_config_json, "config.json");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->layers.size(), 7u * 8u);  // q k v o gate up down in each of 8 layers
  for (const auto& [name, format] : q->layers) {
    EXPECT_EQ(format.bits, 4) << name;
    EXPECT_EQ(format.scheme, WeightScheme::kUniform) << name;
    EXPECT_EQ(format.group, 32) << name;
    EXPECT_EQ(format.sparsity, Sparsity::kDense) << name;
  }
  EXPECT_TRUE(q->rotations.empty());
  EXPECT_EQ(q->activation_bits, 8);
  EXPECT_EQ(q->kv_cache.bits, 4);
  EXPECT_TRUE(q->kv_cache.rotate_keys);
  EXPECT_EQ(q->kv_cache.sink_tokens, 4);
  EXPECT_EQ(q->embedding_bits, 8);
  EXPECT_EQ(q->lm_head_bits, 8);

  absl::StatusOr<std::unique_ptr<LlamaModel>> model = LlamaModel::Load(*dir);
  ASSERT_TRUE(model.ok()) << model.status();
  // 4 bits + an fp16 scale and zero point per group of 32 = 5 bits per weight.
  EXPECT_NEAR((*model)->LinearBitsPerWeight(), 5.0, 0.01);
}

TEST(ShippedModelTest, FitsTheRepositorysBudget) {
  uintmax_t bytes = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(ShippedModel())) {
    if (e.is_regular_file()) bytes += e.file_size();
  }
  EXPECT_LE(bytes, 20u * 1000 * 1000);
}

TEST(ShippedModelTest, GreedyGenerationWritesEnglishWords) {
  const CommandResult run =
      RunAccllm("run --model " + ShippedModel().string() + " --prompt '" + kPrompt +
                "' --temperature 0 --ignore-eos --max-tokens " + std::to_string(kGoldenTokens));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_GE(EnglishWordFraction(run.out), 0.9) << run.out;
  EXPECT_EQ(run.out, kGolden);
}

TEST(ShippedModelTest, HeldOutPerplexityIsWithinTheBoundOfFloat) {
  std::optional<fs::path> docs = testing::SharedModelDir("docs27m");
  if (!docs) GTEST_SKIP() << "../shared/models/docs27m not found; set ACCLLM_SHARED_DIR";
  const std::string ids = (*docs / "reference" / "heldout_4096.txt").string();
  const CommandResult r = RunAccllm("perplexity --model " + ShippedModel().string() +
                                    " --ids-file " + ids + " --context 512 --batch 4 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("tokens").get<int>(), 4088);
  const double ppl = j.at("ppl").get<double>();
  EXPECT_LE(ppl, kPplRatioBound * kFloatPpl) << "shipped " << ppl << ", float " << kFloatPpl;
  EXPECT_GE(ppl, kFloatPpl) << "quantized better than float: is this still the shipped model?";
}

}  // namespace
}  // namespace accllm
