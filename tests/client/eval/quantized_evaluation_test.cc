// `accllm eval` on a quantized directory: bits per weight from the stored layout, and the
// model's own KV format (KV4) through both the dense cache and Λ pages.
#include <gtest/gtest.h>

#include <iostream>

#include "client/eval/evaluation.h"                      // Evaluate
#include "model/llama2c_checkpoint.h"                    // ImportLlama2c
#include "model/model_dir.h"                             // OpenModelDir
#include "tests/support/llama2c_fixture.h"               // WriteRandomLlama2c
#include "tests/support/ring_pager.h"                    // RingPager
#include "tests/support/test_env.h"                      // TempDir
#include "tests/workers/engine/quantized_dir_fixture.h"  // WriteQuantizedDir

namespace accllm {
namespace {

std::unique_ptr<LlamaModel> Load(const std::filesystem::path& dir) {
  absl::StatusOr<ModelDir> d = OpenModelDir(dir);
  EXPECT_TRUE(d.ok()) << d.status();
  absl::StatusOr<std::unique_ptr<LlamaModel>> m = LlamaModel::Load(*d);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *std::move(m) : nullptr;
}

TEST(QuantizedEvaluationTest, W8A8Kv4DenseAndLambda) {
  testing::TempDir tmp;
  testing::Llama2cShape shape;
  shape.seq_len = 128;
  testing::WriteRandomLlama2c(tmp / "m.bin", shape, 31, 0.3f);
  ASSERT_TRUE(ImportLlama2c(tmp / "m.bin", tmp / "f32", {}).ok());
  testing::QuantizedDirOptions o;
  o.config.weights.bits = 8;
  o.config.weights.group = 16;
  o.config.activation_bits = 8;
  o.config.kv_cache.bits = 4;
  testing::WriteQuantizedDir(tmp / "f32", tmp / "q", {}, o);
  auto ref = Load(tmp / "f32");
  auto q = Load(tmp / "q");
  ASSERT_TRUE(ref && q);

  auto streams = SampleStreams(*ref, 2, 80, 3);
  ASSERT_TRUE(streams.ok()) << streams.status();
  absl::StatusOr<EvalReport> dense = Evaluate(*q, *ref, *streams, {});
  ASSERT_TRUE(dense.ok()) << dense.status();
  // 8-bit codes + fp16 scale and zero per 16 weights.
  EXPECT_DOUBLE_EQ(dense->bits_per_weight, 10.0);
  EXPECT_GT(dense->kl_mean, 0.0);
  EXPECT_LT(dense->kl_mean, 0.2);

  EvalOptions lambda;
  lambda.attention = AttentionWindow::Lambda(4, 32);
  lambda.page_size = 8;
  lambda.num_pages = 64;
  lambda.chunk = 7;
  lambda.make_pager = [&] {
    return std::make_unique<testing::RingPager>(64, 8, lambda.attention);
  };
  absl::StatusOr<EvalReport> paged = Evaluate(*q, *ref, *streams, lambda);
  ASSERT_TRUE(paged.ok()) << paged.status();
  std::cout << "W8A8 KV4 vs float: dense kl " << dense->kl_mean << " top1 "
            << dense->top1_agreement << "; Λ(4,32) kl " << paged->kl_mean << "\n";
  EXPECT_GT(paged->kl_mean, 0.0);
  EXPECT_TRUE(std::isfinite(paged->kl_mean));
}

}  // namespace
}  // namespace accllm
