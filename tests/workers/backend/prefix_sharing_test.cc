// Prefix sharing with copy-on-write of real K/V, through the whole in-process pipeline:
// scheduler (AdoptPrefix, PageCopy) → BackendWorker (page copies before the step) → CPU
// backend (PagedKvStore::CopyPage for float K/V, QuantizedKvStore::CopyPage for KV4). A
// request that adopts another's prefix mid-page gets its own copy of that page before it
// writes; the tokens must equal those of the same request run alone.
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "common/model_limits.h"                         // LimitsFor
#include "model/llama2c_checkpoint.h"                    // ImportLlama2c
#include "model/model_dir.h"                             // OpenModelDir
#include "tests/support/llama2c_fixture.h"               // WriteRandomLlama2c
#include "tests/support/test_env.h"                      // TempDir
#include "tests/workers/backend/staged_serving.h"         // ServeStaged
#include "tests/workers/engine/quantized_dir_fixture.h"  // WriteQuantizedDir
#include "workers/backend/backend_worker.h"              // BackendWorker
#include "workers/engine/cpu_backend.h"                  // CpuBackend
#include "workers/engine/llama_model.h"                  // LlamaModel

namespace accllm {
namespace {

using scheduler::RequestParams;

constexpr int32_t kPageSize = 8;
constexpr int32_t kPages = 64;

using testing::Served;
using testing::ServeStaged;

class PrefixSharingTest : public ::testing::TestWithParam<int> {  // the KV bits: 16 or 4
 protected:
  void SetUp() override {
    testing::Llama2cShape shape;
    shape.seq_len = 256;
    shape.vocab_size = 96;
    testing::WriteRandomLlama2c(tmp_ / "m.bin", shape, 5, 0.35f);
    ASSERT_TRUE(ImportLlama2c(tmp_ / "m.bin", tmp_ / "float", {}).ok());
    std::filesystem::path dir = tmp_ / "float";
    if (GetParam() != 16) {
      testing::QuantizedDirOptions o;
      o.config.weights.bits = 8;
      o.config.weights.group = 16;
      o.config.activation_bits = 16;
      o.config.kv_cache.bits = GetParam();
      o.config.kv_cache.sink_tokens = 2;  // positions ≥ 2 are KV4 codes
      testing::WriteQuantizedDir(tmp_ / "float", tmp_ / "q", {}, o);
      dir = tmp_ / "q";
    }
    absl::StatusOr<ModelDir> opened = OpenModelDir(dir);
    ASSERT_TRUE(opened.ok()) << opened.status();
    absl::StatusOr<std::unique_ptr<LlamaModel>> m = LlamaModel::Load(*opened);
    ASSERT_TRUE(m.ok()) << m.status();
    model_ = *std::move(m);
    ASSERT_EQ(model_->kv_format().bits, GetParam());
  }

  static RequestParams Request(std::vector<int32_t> prompt, float temperature, uint64_t seed) {
    RequestParams r;
    r.prompt = std::move(prompt);
    r.max_tokens = 20;
    r.sampling.temperature = temperature;
    r.sampling.seed = seed;
    r.attention = AttentionWindow::Lambda(4, 128);
    return r;
  }

  // `first` runs its prefill alone; then `later` arrive together and share its K/V.
  Served Serve(const std::vector<RequestParams>& first, const std::vector<RequestParams>& later,
               bool drop_copies = false) {
    return ServeStaged(CpuBackend::Wrap(model_, kPages, kPageSize), LimitsFor(model_->config()),
                       first, later, drop_copies);
  }

  testing::TempDir tmp_;
  std::shared_ptr<const LlamaModel> model_;
};

std::vector<int32_t> Tokens(int n, int salt) {
  std::vector<int32_t> t = {1};
  for (int i = 1; i < n; ++i) t.push_back((i * 37 + salt * 11 + 3) % 95 + 1);
  return t;
}

std::vector<int32_t> Concat(std::vector<int32_t> a, const std::vector<int32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST_P(PrefixSharingTest, SharedPrefixesWithCopyOnWriteGiveTheTokensOfUnsharedRuns) {
  // 20 shared tokens: two full pages and half of the third, so an adopter's first write
  // lands in a page it shares (copy-on-write). The identical prompt shares 26 of its 27.
  const std::vector<int32_t> shared = Tokens(20, 0);
  const std::vector<RequestParams> first = {
      Request(Concat(shared, {7, 8, 9, 10, 11, 12, 13}), 0.0f, 1)};
  const std::vector<RequestParams> later = {
      Request(Concat(shared, {50, 51, 52, 53, 54}), 0.0f, 2),  // diverges at 20
      Request(first[0].prompt, 0.0f, 3),                       // the same prompt again
      Request(Concat(shared, {60, 61}), 1.0f, 4),              // sampled
      Request(Concat(Tokens(16, 0), Tokens(10, 5)), 0.0f, 5)};  // two full pages: no copy
  const Served together = Serve(first, later);
  EXPECT_GE(together.shared_prefix_tokens, 20 + 26 + 20 + 16) << "the prefixes were not shared";
  EXPECT_GE(together.page_copies, 3) << "no copy-on-write reached the backend";

  std::vector<RequestParams> all = first;
  all.insert(all.end(), later.begin(), later.end());
  ASSERT_EQ(together.tokens.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    const Served alone = Serve({all[i]}, {});
    EXPECT_EQ(alone.shared_prefix_tokens, 0);
    EXPECT_EQ(alone.page_copies, 0);
    EXPECT_EQ(together.tokens[i].size(), 20u) << "request " << i;
    EXPECT_EQ(together.tokens[i], alone.tokens[0]) << "request " << i;
  }
}

TEST_P(PrefixSharingTest, WithoutTheCopyTheSharersTokensChange) {
  // The same traffic with the backend skipping its page copies: an adopter then reads a
  // page that lacks the shared positions, and its tokens are no longer those of a run
  // alone. (So the test above would catch a CopyPage that copies nothing.)
  const std::vector<int32_t> shared = Tokens(20, 0);
  const std::vector<RequestParams> first = {
      Request(Concat(shared, {7, 8, 9, 10, 11, 12, 13}), 0.0f, 1)};
  const std::vector<RequestParams> later = {Request(Concat(shared, {50, 51, 52, 53, 54}), 0.0f, 2),
                                            Request(Concat(shared, {40, 41, 42}), 0.0f, 3)};
  const Served broken = Serve(first, later, /*drop_copies=*/true);
  ASSERT_GE(broken.page_copies, 2);
  int differ = 0;
  for (size_t i = 0; i < later.size(); ++i) {
    differ += broken.tokens[i + 1] != Serve({later[i]}, {}).tokens[0];
  }
  EXPECT_GT(differ, 0);
}

INSTANTIATE_TEST_SUITE_P(KvFormats, PrefixSharingTest, ::testing::Values(16, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param == 16 ? std::string("FloatKv") : std::string("Kv4");
                         });

}  // namespace
}  // namespace accllm
