// `accllm eval --device`: the model on a backend. On the CPU backend it reports what the
// engine path reports; on the emulated FPGA card exactly what the CPU backend reports.
#include <gtest/gtest.h>

#include "client/eval/evaluation.h"                      // Evaluate, EvaluateOnBackend
#include "model/llama2c_checkpoint.h"                    // ImportLlama2c
#include "model/model_dir.h"                             // OpenModelDir
#include "tests/support/llama2c_fixture.h"               // WriteRandomLlama2c
#include "tests/support/ring_pager.h"                    // RingPager
#include "tests/support/test_env.h"                      // TempDir
#include "tests/workers/engine/quantized_dir_fixture.h"  // WriteQuantizedDir
#include "workers/engine/cpu_backend.h"                  // CpuBackend
#include "workers/fpga/backend/fpga_backend.h"           // MakeEmulatedFpgaBackend

namespace accllm {
namespace {

TEST(BackendEvaluationTest, CpuBackendMatchesTheEngineAndTheCardMatchesTheCpu) {
  testing::TempDir tmp;
  testing::Llama2cShape shape;
  shape.dim = 64;
  shape.hidden_dim = 160;
  shape.seq_len = 128;
  testing::WriteRandomLlama2c(tmp / "m.bin", shape, 31, 0.3f);
  ASSERT_TRUE(ImportLlama2c(tmp / "m.bin", tmp / "f32", {}).ok());
  testing::QuantizedDirOptions o;
  o.config.weights.bits = 4;
  o.config.weights.group = 16;
  o.config.activation_bits = 8;
  o.config.kv_cache.bits = 4;
  testing::WriteQuantizedDir(tmp / "f32", tmp / "q", {}, o);
  absl::StatusOr<ModelDir> ref_dir = OpenModelDir(tmp / "f32");
  absl::StatusOr<ModelDir> q_dir = OpenModelDir(tmp / "q");
  ASSERT_TRUE(ref_dir.ok() && q_dir.ok());
  absl::StatusOr<std::unique_ptr<LlamaModel>> ref = LlamaModel::Load(*ref_dir);
  absl::StatusOr<std::unique_ptr<LlamaModel>> q = LlamaModel::Load(*q_dir);
  ASSERT_TRUE(ref.ok() && q.ok());
  auto streams = SampleStreams(**ref, 2, 80, 3);
  ASSERT_TRUE(streams.ok()) << streams.status();

  EvalOptions lambda;
  lambda.attention = AttentionWindow::Lambda(4, 32);
  lambda.page_size = 8;
  lambda.num_pages = 64;
  lambda.chunk = 7;
  lambda.make_pager = [&] {
    return std::make_unique<testing::RingPager>(64, 8, lambda.attention);
  };
  absl::StatusOr<EvalReport> engine = Evaluate(**q, **ref, *streams, lambda);
  ASSERT_TRUE(engine.ok()) << engine.status();

  CpuBackend cpu;
  absl::StatusOr<std::unique_ptr<BackendModel>> on_cpu =
      cpu.Load(*q_dir, {.kv_pages = 64, .page_size = 8, .threads = 1});
  ASSERT_TRUE(on_cpu.ok()) << on_cpu.status();
  absl::StatusOr<EvalReport> cpu_report = EvaluateOnBackend(**on_cpu, **ref, *streams, lambda);
  ASSERT_TRUE(cpu_report.ok()) << cpu_report.status();
  EXPECT_EQ(cpu_report->tokens, engine->tokens);
  EXPECT_NEAR(cpu_report->kl_mean, engine->kl_mean, 1e-6);
  EXPECT_NEAR(cpu_report->nll_model, engine->nll_model, 1e-6);
  EXPECT_DOUBLE_EQ(cpu_report->bits_per_weight, engine->bits_per_weight);

  absl::StatusOr<std::shared_ptr<Backend>> emu = MakeEmulatedFpgaBackend();
  ASSERT_TRUE(emu.ok());
  for (const bool dense : {false, true}) {
    EvalOptions options = dense ? EvalOptions{} : lambda;
    if (dense) options.page_size = 8;
    const int32_t pages = dense ? 80 / 8 + 1 : 64;
    absl::StatusOr<std::unique_ptr<BackendModel>> a =
        cpu.Load(*q_dir, {.kv_pages = pages, .page_size = 8, .threads = 1});
    absl::StatusOr<std::unique_ptr<BackendModel>> b =
        (*emu)->Load(*q_dir, {.kv_pages = pages, .page_size = 8, .threads = 1});
    ASSERT_TRUE(a.ok() && b.ok());
    absl::StatusOr<EvalReport> on_a = EvaluateOnBackend(**a, **ref, *streams, options);
    absl::StatusOr<EvalReport> on_b = EvaluateOnBackend(**b, **ref, *streams, options);
    ASSERT_TRUE(on_a.ok() && on_b.ok()) << on_a.status() << on_b.status();
    EXPECT_EQ(on_b->kl_mean, on_a->kl_mean) << "dense " << dense;
    EXPECT_EQ(on_b->nll_model, on_a->nll_model) << "dense " << dense;
    EXPECT_EQ(on_b->top1_agreement, on_a->top1_agreement) << "dense " << dense;
    EXPECT_DOUBLE_EQ(on_b->bits_per_weight, on_a->bits_per_weight);
  }
}

}  // namespace
}  // namespace accllm
