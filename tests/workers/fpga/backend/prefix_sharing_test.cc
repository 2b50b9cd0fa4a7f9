// Prefix sharing on the emulated card: copy-on-write copies a KV4 page inside the card's
// HBM pool (Device::Copy), and requests that adopt another's prefix stream what they
// stream alone on the card, and what the CPU backend streams for the same traffic.
#include <gtest/gtest.h>

#include <vector>

#include "model/llama2c_checkpoint.h"
#include "tests/support/llama2c_fixture.h"
#include "tests/workers/backend/staged_serving.h"        // ServeStaged
#include "tests/workers/fpga/backend/backend_compare.h"  // Quantize, FpgaBackendTest

namespace accllm::testing {
namespace {

class FpgaPrefixSharingTest : public FpgaBackendTest {
 protected:
  Served ServeOn(Backend& backend, const std::vector<RequestParams>& first,
             const std::vector<RequestParams>& later, bool drop_copies = false) {
    absl::StatusOr<ModelDir> dir = OpenModelDir(tmp_ / "q");
    EXPECT_TRUE(dir.ok()) << dir.status();
    if (!dir.ok()) return {};
    absl::StatusOr<std::unique_ptr<BackendModel>> loaded =
        backend.Load(*dir, {.kv_pages = 64, .page_size = 8, .threads = 1});
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    if (!loaded.ok()) return {};
    return ServeStaged(*std::move(loaded), LimitsFor(dir->config), first, later, drop_copies);
  }

  static RequestParams Request(std::vector<int32_t> suffix, float temperature) {
    RequestParams r;
    r.prompt = {1};
    for (int i = 1; i < 20; ++i) r.prompt.push_back((i * 29 + 7) % 95 + 1);  // 20 shared
    r.prompt.insert(r.prompt.end(), suffix.begin(), suffix.end());
    r.max_tokens = 16;
    r.sampling.temperature = temperature;
    r.sampling.seed = 77;
    r.attention = AttentionWindow::Lambda(4, 64);
    return r;
  }
};

TEST_F(FpgaPrefixSharingTest, SharedPrefixesCopyOnWriteOnTheCardAndChangeNoToken) {
  Llama2cShape shape;
  shape.dim = 64;
  shape.hidden_dim = 176;
  shape.vocab_size = 96;
  shape.seq_len = 256;
  WriteRandomLlama2c(tmp_ / "m.bin", shape, 13, 0.3f);
  ASSERT_TRUE(ImportLlama2c(tmp_ / "m.bin", tmp_ / "f", {}).ok());
  ASSERT_TRUE(Quantize(tmp_ / "f", tmp_ / "q", 4, Sparsity::kDense, 32).ok());

  const std::vector<RequestParams> first = {Request({5, 6, 7, 8}, 0.0f)};
  const std::vector<RequestParams> later = {Request({5, 6, 7, 8}, 0.0f),  // same prompt
                                            Request({40, 41}, 0.0f),      // diverges at 20
                                            Request({60, 61, 62}, 0.9f)};
  const Served card = ServeOn(*emu_, first, later);
  EXPECT_GE(card.shared_prefix_tokens, 23 + 20 + 20);
  EXPECT_GE(card.page_copies, 3) << "no copy-on-write reached the card";
  CpuBackend cpu;
  const Served on_cpu = ServeOn(cpu, first, later);
  EXPECT_EQ(card.tokens, on_cpu.tokens);

  std::vector<RequestParams> all = first;
  all.insert(all.end(), later.begin(), later.end());
  for (size_t i = 0; i < all.size(); ++i) {
    const Served alone = ServeOn(*emu_, {all[i]}, {});
    EXPECT_EQ(alone.page_copies, 0);
    EXPECT_EQ(card.tokens[i].size(), 16u);
    EXPECT_EQ(card.tokens[i], alone.tokens[0]) << "request " << i;
  }
  // Without the copies the adopters read pages missing the shared positions.
  const Served broken = ServeOn(*emu_, first, later, /*drop_copies=*/true);
  EXPECT_NE(broken.tokens, card.tokens);
}

}  // namespace
}  // namespace accllm::testing
