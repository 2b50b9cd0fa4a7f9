// The emulated card against the CPU backend, through the scheduler and the shared step logic:
// the same requests must give the same tokens (greedy and seeded sampling), with prefill
// chunks, batched decode and Λ attention; a model outside the card's subset is a clear error.
#include "workers/fpga/backend/fpga_backend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "model/llama2c_checkpoint.h"
#include "tests/support/llama2c_fixture.h"
#include "tests/support/status_matchers.h"
#include "tests/workers/fpga/backend/backend_compare.h"

namespace accllm::testing {
namespace {

using ::accllm::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST_F(FpgaBackendTest, RandomW4ModelEqualsCpuDenseAndLambda) {
  Llama2cShape shape;
  shape.dim = 64;
  shape.hidden_dim = 176;
  shape.n_heads = 4;
  shape.n_kv_heads = 2;
  shape.vocab_size = 96;
  shape.seq_len = 256;
  WriteRandomLlama2c(tmp_ / "m.bin", shape, 11, 0.3f);
  ASSERT_TRUE(ImportLlama2c(tmp_ / "m.bin", tmp_ / "f", {}).ok());
  ASSERT_TRUE(Quantize(tmp_ / "f", tmp_ / "q", 4, Sparsity::kDense, 32).ok());
  ExpectSameTokens(tmp_ / "q", Requests(6, 96, 20, AttentionWindow::Dense()), 24);
  // Λ with a small window: sinks re-rotated, pages recycled, prefill chunks across the edge.
  ExpectSameTokens(tmp_ / "q", Requests(6, 96, 40, AttentionWindow::Lambda(2, 16)), 16);
}

TEST_F(FpgaBackendTest, FloatAndRotatedModelsAreClearErrors) {
  Llama2cShape shape;
  WriteRandomLlama2c(tmp_ / "m.bin", shape, 3);
  ASSERT_TRUE(ImportLlama2c(tmp_ / "m.bin", tmp_ / "f", {}).ok());
  absl::StatusOr<ModelDir> dir = OpenModelDir(tmp_ / "f");
  ASSERT_TRUE(dir.ok());
  absl::StatusOr<std::unique_ptr<BackendModel>> loaded = emu_->Load(*dir, {});
  EXPECT_THAT(loaded,
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("is a float model")));

  absl::StatusOr<ModelDir> f = OpenModelDir(tmp_ / "f");
  ModelQuantizeOptions options;
  options.base.format.bits = 4;
  options.base.format.group = 32;
  options.base.method = QuantMethod::kRtn;
  options.base.rotate = true;
  ASSERT_TRUE(QuantizeModel(*f, nullptr, options, tmp_ / "rot").ok());
  absl::StatusOr<ModelDir> rot = OpenModelDir(tmp_ / "rot");
  ASSERT_TRUE(rot.ok());
  loaded = emu_->Load(*rot, {});
  EXPECT_THAT(loaded, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("rotations")));
}

TEST_F(FpgaBackendTest, AStepTheKernelRejectsIsAnErrorAndCountsOneLaunch) {
  Llama2cShape shape;
  WriteRandomLlama2c(tmp_ / "m.bin", shape, 5);
  ASSERT_TRUE(ImportLlama2c(tmp_ / "m.bin", tmp_ / "f", {}).ok());
  ASSERT_TRUE(Quantize(tmp_ / "f", tmp_ / "q", 4, Sparsity::kDense, 16).ok());
  absl::StatusOr<ModelDir> dir = OpenModelDir(tmp_ / "q");
  ASSERT_TRUE(dir.ok());
  absl::StatusOr<std::unique_ptr<BackendModel>> model =
      emu_->Load(*dir, {.kv_pages = 4, .page_size = 8, .threads = 1});
  ASSERT_TRUE(model.ok()) << model.status();
  scheduler::SequenceChunk chunk;
  chunk.tokens = {1, 2};
  chunk.page_size = 8;
  chunk.attention = AttentionWindow::Dense();
  chunk.sample = true;
  // No page table: the shared step checks catch it; the kernel's own guard does too.
  std::vector<std::vector<float>> logits(1);
  absl::Status s = (*model)->Forward({&chunk, 1}, logits);
  EXPECT_THAT(
      s, StatusIs(absl::StatusCode::kInternal, AllOf(HasSubstr("accllm_decoder rejected the step"),
                                                     HasSubstr("without a page"))));
  EXPECT_EQ((*model)->counters().launches, 1);
  // Then a good step runs on the same card.
  chunk.pages = {{0, 2}};
  EXPECT_TRUE((*model)->Forward({&chunk, 1}, logits).ok());
  EXPECT_EQ(logits[0].size(), static_cast<size_t>(shape.vocab_size));
  EXPECT_EQ((*model)->counters().launches, 2);
  EXPECT_GT((*model)->counters().bytes_read, (*model)->WeightBytesPerStep());
}

}  // namespace
}  // namespace accllm::testing
