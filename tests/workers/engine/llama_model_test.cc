// The float32 engine against llama2.c: its published reference outputs on
// stories260K, and an independent naive implementation on other prompts/shapes.
#include "workers/engine/llama_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "model/llama2c_checkpoint.h"
#include "model/model_dir.h"
#include "tests/support/llama2c_fixture.h"
#include "tests/support/status_matchers.h"
#include "tests/support/test_env.h"
#include "tests/workers/engine/naive_llama2c.h"
#include "workers/backend/sampler.h"
#include "workers/engine/generate.h"
#include "workers/engine/kv_cache.h"

namespace accllm {
namespace {

using ::accllm::testing::StatusIs;
using ::accllm::testing::TempDir;
using ::testing::HasSubstr;

std::unique_ptr<LlamaModel> ImportAndLoad(const std::filesystem::path& bin,
                                          const std::filesystem::path& out,
                                          DType dtype = DType::kF32) {
  Llama2cImportOptions options;
  options.dtype = dtype;
  absl::Status s = ImportLlama2c(bin, out, options);
  EXPECT_TRUE(s.ok()) << s;
  absl::StatusOr<ModelDir> dir = OpenModelDir(out);
  EXPECT_TRUE(dir.ok()) << dir.status();
  if (!dir.ok()) return nullptr;
  absl::StatusOr<std::unique_ptr<LlamaModel>> model = LlamaModel::Load(*dir);
  EXPECT_TRUE(model.ok()) << model.status();
  return model.ok() ? *std::move(model) : nullptr;
}

std::vector<int32_t> GreedyWithEngine(const LlamaModel& model, std::vector<int32_t> prompt,
                                      int n) {
  GenerateOptions options;
  options.max_tokens = n;
  options.sampling.temperature = 0.0f;
  options.stop_ids = {-1};  // never stop early: compare full runs
  absl::StatusOr<GenerateResult> result = Generate(model, prompt, options);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? result->tokens : std::vector<int32_t>{};
}

std::vector<int32_t> GreedyWithNaive(const Llama2cCheckpoint& ck, std::vector<int32_t> prompt,
                                     int n) {
  testing::NaiveLlama2c naive(ck);
  std::vector<float> logits;
  int pos = 0;
  for (int32_t t : prompt) logits = naive.Forward(t, pos++);
  std::vector<int32_t> out;
  for (int i = 0; i < n; ++i) {
    const int32_t next = Argmax(logits);
    out.push_back(next);
    if (i + 1 < n) logits = naive.Forward(next, pos++);
  }
  return out;
}

TEST(Stories260KTest, GreedyFromBosMatchesLlama2cReference) {
  ACCLLM_REQUIRE_STORIES260K(dir);
  TempDir tmp;
  std::unique_ptr<LlamaModel> model = ImportAndLoad(dir / "stories260K.bin", tmp / "model");
  ASSERT_NE(model, nullptr);
  std::vector<int32_t> expected;
  std::ifstream ref(dir / "reference" / "greedy_from_bos.txt");
  for (int32_t id; ref >> id;) expected.push_back(id);
  ASSERT_EQ(expected.size(), 256u);
  EXPECT_EQ(GreedyWithEngine(*model, {1}, 256), expected);
}

TEST(Stories260KTest, LogitsMatchLlama2cReferenceAtPositions0To3) {
  ACCLLM_REQUIRE_STORIES260K(dir);
  TempDir tmp;
  std::unique_ptr<LlamaModel> model = ImportAndLoad(dir / "stories260K.bin", tmp / "model");
  ASSERT_NE(model, nullptr);
  std::ifstream ref(dir / "reference" / "logits_bos_positions_0-3.txt");
  KvCache cache(model->config(), 8);
  std::vector<float> logits(model->config().vocab_size);
  int32_t token = 1;
  std::string line;
  int rows = 0;
  while (std::getline(ref, line)) {
    std::istringstream in(line);
    int pos;
    in >> pos;
    ASSERT_EQ(pos, rows);
    ASSERT_TRUE(model->Forward(token, pos, cache, logits).ok());
    std::vector<float> expected;
    for (float v; in >> v;) expected.push_back(v);
    ASSERT_EQ(expected.size(), logits.size());
    float max_err = 0.0f;
    for (size_t i = 0; i < logits.size(); ++i) {
      // The file has 6 significant digits: allow that rounding on top of 1e-4.
      const float tol = 1e-4f + 5e-6f * std::abs(expected[i]);
      EXPECT_NEAR(logits[i], expected[i], tol) << "position " << pos << " token " << i;
      max_err = std::max(max_err, std::abs(logits[i] - expected[i]));
    }
    RecordProperty("max_abs_err_pos_" + std::to_string(pos), std::to_string(max_err));
    token = Argmax(logits);
    ++rows;
  }
  EXPECT_EQ(rows, 4);
}

TEST(Stories260KTest, GreedyFromOtherPromptsMatchesNaiveImplementation) {
  ACCLLM_REQUIRE_STORIES260K(dir);
  TempDir tmp;
  std::unique_ptr<LlamaModel> model = ImportAndLoad(dir / "stories260K.bin", tmp / "model");
  ASSERT_NE(model, nullptr);
  absl::StatusOr<Llama2cCheckpoint> ck = ReadLlama2cCheckpoint(dir / "stories260K.bin");
  ASSERT_TRUE(ck.ok()) << ck.status();
  const std::vector<std::vector<int32_t>> prompts = {
      {1, 403, 407, 261, 378}, {1, 68, 69, 70}, {1, 300, 301, 302, 303, 304, 305, 306}, {7}};
  for (const auto& prompt : prompts) {
    EXPECT_EQ(GreedyWithEngine(*model, prompt, 64), GreedyWithNaive(*ck, prompt, 64))
        << "prompt starting " << prompt[0] << " of length " << prompt.size();
  }
}

struct ShapeCase {
  const char* name;
  testing::Llama2cShape shape;
};

void PrintTo(const ShapeCase& c, std::ostream* os) { *os << c.name; }

class RandomShapeTest : public ::testing::TestWithParam<ShapeCase> {};

TEST_P(RandomShapeTest, LogitsMatchNaiveImplementation) {
  TempDir tmp;
  const testing::Llama2cShape& shape = GetParam().shape;
  testing::WriteRandomLlama2c(tmp / "model.bin", shape, /*seed=*/42);
  std::unique_ptr<LlamaModel> model = ImportAndLoad(tmp / "model.bin", tmp / "model");
  ASSERT_NE(model, nullptr);
  absl::StatusOr<Llama2cCheckpoint> ck = ReadLlama2cCheckpoint(tmp / "model.bin");
  ASSERT_TRUE(ck.ok()) << ck.status();
  testing::NaiveLlama2c naive(*ck);
  KvCache cache(model->config(), shape.seq_len);
  std::vector<float> logits(shape.vocab_size);
  const std::vector<int32_t> tokens = {1, 5, 9, 3, 17, 2, 40, 11, 11, 0};
  for (int pos = 0; pos < static_cast<int>(tokens.size()); ++pos) {
    ASSERT_TRUE(model->Forward(tokens[pos], pos, cache, logits).ok());
    const std::vector<float> expected = naive.Forward(tokens[pos], pos);
    for (int i = 0; i < shape.vocab_size; ++i) {
      ASSERT_NEAR(logits[i], expected[i], 1e-4f * (1.0f + std::abs(expected[i])))
          << "pos " << pos << " token " << i;
    }
  }
  EXPECT_EQ(GreedyWithEngine(*model, {1, 2, 3}, 40), GreedyWithNaive(*ck, {1, 2, 3}, 40));
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, RandomShapeTest,
    ::testing::Values(ShapeCase{"gqa_shared", {32, 80, 2, 4, 2, 64, 64, true}},
                      ShapeCase{"mha_separate_classifier", {48, 96, 3, 6, 6, 50, 64, false}},
                      ShapeCase{"mqa", {64, 172, 1, 8, 1, 70, 64, true}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(HalfPrecisionWeightsTest, Bf16AndF16StayCloseToF32) {
  TempDir tmp;
  testing::Llama2cShape shape;
  testing::WriteRandomLlama2c(tmp / "model.bin", shape, 7);
  std::unique_ptr<LlamaModel> f32 = ImportAndLoad(tmp / "model.bin", tmp / "f32");
  std::unique_ptr<LlamaModel> f16 = ImportAndLoad(tmp / "model.bin", tmp / "f16", DType::kF16);
  std::unique_ptr<LlamaModel> bf16 = ImportAndLoad(tmp / "model.bin", tmp / "bf16", DType::kBF16);
  ASSERT_TRUE(f32 && f16 && bf16);
  for (auto* other : {f16.get(), bf16.get()}) {
    KvCache c1(f32->config(), 8), c2(f32->config(), 8);
    std::vector<float> a(shape.vocab_size), b(shape.vocab_size);
    for (int pos = 0; pos < 4; ++pos) {
      ASSERT_TRUE(f32->Forward(pos + 1, pos, c1, a).ok());
      ASSERT_TRUE(other->Forward(pos + 1, pos, c2, b).ok());
      for (int i = 0; i < shape.vocab_size; ++i) EXPECT_NEAR(a[i], b[i], 0.05f);
    }
  }
}

TEST(LlamaModelTest, ForwardRejectsBadTokenPositionAndBuffer) {
  TempDir tmp;
  testing::WriteRandomLlama2c(tmp / "model.bin", {}, 3);
  std::unique_ptr<LlamaModel> model = ImportAndLoad(tmp / "model.bin", tmp / "model");
  ASSERT_NE(model, nullptr);
  KvCache cache(model->config(), 4);
  std::vector<float> logits(model->config().vocab_size);
  absl::Status s = model->Forward(64, 0, cache, logits);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("token id 64"));
  EXPECT_THAT(model->Forward(-1, 0, cache, logits),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("token id -1")));
  EXPECT_EQ(model->Forward(1, 4, cache, logits).code(), absl::StatusCode::kOutOfRange);
  std::vector<float> small(3);
  EXPECT_THAT(model->Forward(1, 0, cache, small),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("logits hold 3 floats")));
}

}  // namespace
}  // namespace accllm
