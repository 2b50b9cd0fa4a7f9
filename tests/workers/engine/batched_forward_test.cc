// ForwardBatch (every token of a step through each linear as one GEMM) equals
// Forward token by token, bit for bit: quantized A8 layers of every kind (tiled
// W2/W4/W8, 2:4 tiled and not, pow2, rotated, float), 8-bit head, KV4 pages, Λ
// attention, and a batch that mixes two sequences' prefill chunks with decode tokens.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "model/llama2c_checkpoint.h"                    // ImportLlama2c
#include "model/model_dir.h"                             // OpenModelDir
#include "tests/support/llama2c_fixture.h"               // WriteRandomLlama2c
#include "tests/support/test_env.h"                      // TempDir
#include "tests/workers/engine/quantized_dir_fixture.h"  // WriteQuantizedDir
#include "workers/engine/kv_factory.h"                   // MakeKvPagePool
#include "workers/engine/llama_model.h"                  // LlamaModel

namespace accllm {
namespace {

using ::accllm::testing::QuantizedDirOptions;
using ::accllm::testing::TempDir;

WeightFormat Format(int bits, int group, WeightScheme scheme = WeightScheme::kUniform,
                    Sparsity sparsity = Sparsity::kDense) {
  WeightFormat f;
  f.bits = bits;
  f.group = group;
  f.scheme = scheme;
  f.sparsity = sparsity;
  return f;
}

std::unique_ptr<LlamaModel> MakeModel(const TempDir& tmp) {
  testing::Llama2cShape shape;
  shape.shared_classifier = false;
  shape.dim = 64;  // 64-wide inputs: the group-64 kernels (dense and 2:4) take them
  shape.hidden_dim = 128;
  testing::WriteRandomLlama2c(tmp / "m.bin", shape, 21);
  EXPECT_TRUE(ImportLlama2c(tmp / "m.bin", tmp / "float", Llama2cImportOptions{}).ok());
  QuantizedDirOptions o;
  o.config.weights = Format(2, 16);
  o.config.activation_bits = 8;
  o.config.kv_cache.bits = 4;
  o.config.kv_cache.sink_tokens = 2;
  o.overrides = {{"mlp.up_proj", Format(2, 64, WeightScheme::kUniform, Sparsity::k2of4)},
                 {"mlp.down_proj", Format(2, 16, WeightScheme::kUniform, Sparsity::k2of4)},
                 {"mlp.gate_proj", Format(3, 16, WeightScheme::kPow2)},
                 {"self_attn.v_proj", Format(8, 32)},
                 {"self_attn.q_proj", Format(4, 64)}};
  o.keep_float = {"self_attn.o_proj"};
  o.config.rotations["model.layers.0.mlp.down_proj"] =
      RotationSpec{RotationSpec::Kind::kHadamard, 3};
  testing::WriteQuantizedDir(tmp / "float", tmp / "q", {}, o);
  absl::StatusOr<ModelDir> dir = OpenModelDir(tmp / "q");
  EXPECT_TRUE(dir.ok()) << dir.status();
  LoadOptions options;
  options.threads = 2;
  absl::StatusOr<std::unique_ptr<LlamaModel>> m = LlamaModel::Load(*dir, options);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *std::move(m) : nullptr;
}

// Pages 0..n-1 for one sequence, each logical page its own physical page from `first`.
std::vector<PageRef> Pages(int32_t first, int32_t n) {
  std::vector<PageRef> pages;
  for (int32_t i = 0; i < n; ++i) pages.push_back({i, first + i});
  return pages;
}

TEST(BatchedForwardTest, EqualsTokenByTokenForward) {
  TempDir tmp;
  std::unique_ptr<LlamaModel> model = MakeModel(tmp);
  ASSERT_TRUE(model);
  const int32_t vocab = model->config().vocab_size;
  constexpr int32_t kPage = 4, kPagesPerSeq = 8;
  const AttentionWindow window = AttentionWindow::Lambda(2, 9);
  // Sequence A: a 13-token prompt then 3 decode tokens; B: 5 + 3. Same pages in both runs.
  const std::vector<int32_t> a = {1, 5, 9, 13, 17, 21, 25, 29, 2, 6, 10, 14, 18, 3, 7, 11};
  const std::vector<int32_t> b = {1, 30, 20, 10, 4, 8, 12, 16};
  const size_t a_prompt = 13, b_prompt = 5;

  // Reference: Forward one token at a time, sequence after sequence.
  std::unique_ptr<KvPagePool> ref_pool = MakeKvPagePool(*model, 2 * kPagesPerSeq, kPage);
  std::unique_ptr<SequenceKv> ref_a = ref_pool->Sequence(Pages(0, kPagesPerSeq), window);
  std::unique_ptr<SequenceKv> ref_b = ref_pool->Sequence(Pages(kPagesPerSeq, kPagesPerSeq), window);
  std::vector<float> ref_logits_a(a.size() * vocab), ref_logits_b(b.size() * vocab);
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_TRUE(
        model->Forward(a[i], i, *ref_a, {ref_logits_a.data() + i * vocab, size_t(vocab)}).ok());
  }
  for (size_t i = 0; i < b.size(); ++i) {
    ASSERT_TRUE(
        model->Forward(b[i], i, *ref_b, {ref_logits_b.data() + i * vocab, size_t(vocab)}).ok());
  }

  // Batched: step 1 = both prompts; then one decode token of each per step.
  std::unique_ptr<KvPagePool> pool = MakeKvPagePool(*model, 2 * kPagesPerSeq, kPage);
  std::unique_ptr<SequenceKv> kv_a = pool->Sequence(Pages(0, kPagesPerSeq), window);
  std::unique_ptr<SequenceKv> kv_b = pool->Sequence(Pages(kPagesPerSeq, kPagesPerSeq), window);
  std::vector<float> logits_a(a.size() * vocab), logits_b(b.size() * vocab);
  auto token = [&](const std::vector<int32_t>& seq, size_t i, SequenceKv* kv,
                   std::vector<float>& logits) {
    return LlamaModel::BatchToken{.token = seq[i],
                                  .pos = static_cast<int64_t>(i),
                                  .kv = kv,
                                  .logits = {logits.data() + i * vocab, size_t(vocab)}};
  };
  std::vector<LlamaModel::BatchToken> step;
  for (size_t i = 0; i < a_prompt; ++i) step.push_back(token(a, i, kv_a.get(), logits_a));
  for (size_t i = 0; i < b_prompt; ++i) step.push_back(token(b, i, kv_b.get(), logits_b));
  ASSERT_TRUE(model->ForwardBatch(step).ok());
  for (size_t d = 0; d < 3; ++d) {
    step = {token(b, b_prompt + d, kv_b.get(), logits_b),
            token(a, a_prompt + d, kv_a.get(), logits_a)};
    ASSERT_TRUE(model->ForwardBatch(step).ok());
  }
  for (size_t i = 0; i < logits_a.size(); ++i) ASSERT_EQ(logits_a[i], ref_logits_a[i]) << i;
  for (size_t i = 0; i < logits_b.size(); ++i) ASSERT_EQ(logits_b[i], ref_logits_b[i]) << i;
}

TEST(BatchedForwardTest, RejectsABadTokenBeforeRunningAnything) {
  TempDir tmp;
  std::unique_ptr<LlamaModel> model = MakeModel(tmp);
  ASSERT_TRUE(model);
  std::unique_ptr<KvPagePool> pool = MakeKvPagePool(*model, 4, 4);
  std::unique_ptr<SequenceKv> kv = pool->Sequence(Pages(0, 4), AttentionWindow::Dense());
  const std::vector<LlamaModel::BatchToken> step = {
      {.token = 1, .pos = 0, .kv = kv.get(), .logits = {}},
      {.token = model->config().vocab_size, .pos = 1, .kv = kv.get(), .logits = {}}};
  EXPECT_EQ(model->ForwardBatch(step).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace accllm
