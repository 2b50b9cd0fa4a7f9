// The emulated card on the trained models of ../shared (skipped where they are absent):
// token for token what the CPU backend gives on stories260K W2A8KV4 2:4 and docs27m W4A8KV4,
// and the HBM bytes it counts per decode token against the cost model's. Labelled
// integration: each quantizes a model first.
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "model/hf_import.h"
#include "model/llama2c_checkpoint.h"
#include "quant/quantization_config.h"
#include "tests/workers/fpga/backend/backend_compare.h"
#include "workers/fpga/cost/hbm_traffic.h"

namespace accllm::testing {
namespace {

TEST_F(FpgaBackendTest, Stories260kW2A8Kv4Sparse24EqualsCpu) {
  ACCLLM_REQUIRE_STORIES260K(stories);
  ASSERT_TRUE(ImportLlama2c(stories / "stories260K.bin", tmp_ / "f", {}).ok());
  ASSERT_TRUE(Quantize(tmp_ / "f", tmp_ / "q", 2, Sparsity::k2of4, 64).ok());
  ExpectSameTokens(tmp_ / "q", Requests(8, 512, 48, AttentionWindow::Dense()), 64);
  ExpectSameTokens(tmp_ / "q", Requests(4, 512, 64, AttentionWindow::Lambda(4, 32)), 64);
}

TEST_F(FpgaBackendTest, Docs27mW4A8Kv4EqualsCpu) {
  std::optional<std::filesystem::path> docs = SharedModelDir("docs27m");
  if (!docs) GTEST_SKIP() << "../shared/models/docs27m not found";
  ASSERT_TRUE(ImportHuggingFace(*docs, tmp_ / "f", {}).ok());
  ASSERT_TRUE(Quantize(tmp_ / "f", tmp_ / "q", 4, Sparsity::kDense, 64).ok());
  ExpectSameTokens(tmp_ / "q", Requests(4, 4096, 24, AttentionWindow::Dense()), 64);
}

// What the emulated card counts for one decode token is what the cost model prices
// (workers/fpga/cost/hbm_traffic.h's definition), within 1%: AccLLM's W2 2:4 A8 KV4 on docs27m.
TEST_F(FpgaBackendTest, CountedBytesPerDecodeTokenEqualTheCostModel) {
  std::optional<std::filesystem::path> docs = SharedModelDir("docs27m");
  if (!docs) GTEST_SKIP() << "../shared/models/docs27m not found";
  ASSERT_TRUE(ImportHuggingFace(*docs, tmp_ / "f", {}).ok());
  ASSERT_TRUE(Quantize(tmp_ / "f", tmp_ / "q", 2, Sparsity::k2of4, 64).ok());
  absl::StatusOr<ModelDir> dir = OpenModelDir(tmp_ / "q");
  ASSERT_TRUE(dir.ok());
  absl::StatusOr<std::unique_ptr<BackendModel>> model =
      emu_->Load(*dir, {.kv_pages = 16, .page_size = 16, .threads = 1});
  ASSERT_TRUE(model.ok()) << model.status();
  const AttentionWindow window = AttentionWindow::Lambda(4, 1024);
  scheduler::SequenceChunk chunk;
  for (int i = 0; i < 40; ++i) chunk.tokens.push_back(1 + (i * 97) % 4000);
  chunk.page_size = 16;
  chunk.attention = window;
  chunk.sample = true;
  chunk.pages = {{0, 3}, {1, 7}, {2, 1}};
  std::vector<std::vector<float>> logits(1);
  ASSERT_TRUE((*model)->Forward({&chunk, 1}, logits).ok());
  chunk.first_position = 40;
  chunk.tokens = {17};
  const DeviceCounters before = (*model)->counters();
  ASSERT_TRUE((*model)->Forward({&chunk, 1}, logits).ok());
  const DeviceCounters after = (*model)->counters();
  EXPECT_EQ(after.launches - before.launches, 1);  // the launch budget: one per decode step
  const double counted = static_cast<double>(after.bytes_read - before.bytes_read +
                                             after.bytes_written - before.bytes_written);
  absl::StatusOr<QuantizationConfig> q =
      ParseQuantizationConfig(dir->config.quantization_config_json, "config.json");
  ASSERT_TRUE(q.ok());
  absl::StatusOr<fpga::HbmBytes> modelled = fpga::DecodeStepBytes(dir->config, *q, window, 41, 1);
  ASSERT_TRUE(modelled.ok()) << modelled.status();
  EXPECT_NEAR(counted / static_cast<double>(modelled->total()), 1.0, 0.01)
      << "counted " << counted << ", modelled " << modelled->total() << " (weights "
      << modelled->weights << ", head " << modelled->head << ", kv read " << modelled->kv_read
      << ")";
}

}  // namespace
}  // namespace accllm::testing
