#include "workers/engine/generate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/llama2c_checkpoint.h"
#include "model/model_dir.h"
#include "tests/support/llama2c_fixture.h"
#include "tests/support/status_matchers.h"
#include "tests/support/test_env.h"

namespace accllm {
namespace {

using ::accllm::testing::StatusIs;
using ::testing::HasSubstr;

class GenerateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WriteRandomLlama2c(tmp_ / "m.bin", {}, 9);
    ASSERT_TRUE(ImportLlama2c(tmp_ / "m.bin", tmp_ / "m", {}).ok());
    absl::StatusOr<ModelDir> dir = OpenModelDir(tmp_ / "m");
    ASSERT_TRUE(dir.ok()) << dir.status();
    absl::StatusOr<std::unique_ptr<LlamaModel>> model = LlamaModel::Load(*dir);
    ASSERT_TRUE(model.ok()) << model.status();
    model_ = *std::move(model);
  }
  GenerateOptions Greedy(int n) {
    GenerateOptions o;
    o.max_tokens = n;
    o.sampling.temperature = 0.0f;
    o.stop_ids = {-1};
    return o;
  }
  testing::TempDir tmp_;
  std::unique_ptr<LlamaModel> model_;
};

TEST_F(GenerateTest, StopsAtMaxTokens) {
  absl::StatusOr<GenerateResult> r = Generate(*model_, std::vector<int32_t>{1}, Greedy(7));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->tokens.size(), 7u);
  EXPECT_EQ(r->finish_reason, FinishReason::kLength);
}

TEST_F(GenerateTest, StopsAtStopTokenWithoutEmittingIt) {
  absl::StatusOr<GenerateResult> full = Generate(*model_, std::vector<int32_t>{1}, Greedy(10));
  ASSERT_TRUE(full.ok());
  GenerateOptions o = Greedy(10);
  o.stop_ids = {full->tokens[3]};
  absl::StatusOr<GenerateResult> r = Generate(*model_, std::vector<int32_t>{1}, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->finish_reason, FinishReason::kStop);
  const auto first = std::find(full->tokens.begin(), full->tokens.end(), full->tokens[3]);
  EXPECT_EQ(r->tokens, std::vector<int32_t>(full->tokens.begin(), first));
}

TEST_F(GenerateTest, CallbackSeesEveryTokenAndCanCancel) {
  std::vector<int32_t> seen;
  absl::StatusOr<GenerateResult> r =
      Generate(*model_, std::vector<int32_t>{1, 4}, Greedy(10), [&](int32_t t) {
        seen.push_back(t);
        return seen.size() < 3;
      });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->finish_reason, FinishReason::kCancelled);
  EXPECT_EQ(seen, r->tokens);
  EXPECT_EQ(seen.size(), 3u);
}

TEST_F(GenerateTest, StopsWhenTheContextIsFull) {
  // seq_len 64: a 60-token prompt leaves room for 5 generated tokens.
  std::vector<int32_t> prompt(60, 3);
  absl::StatusOr<GenerateResult> r = Generate(*model_, prompt, Greedy(100));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->finish_reason, FinishReason::kContextFull);
  EXPECT_EQ(r->tokens.size(), 5u);
}

TEST_F(GenerateTest, RejectsBadInputWithClearErrors) {
  absl::StatusOr<GenerateResult> r = Generate(*model_, std::vector<int32_t>{1, 64}, Greedy(3));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("id 64"));
  EXPECT_THAT(Generate(*model_, std::vector<int32_t>{-5}, Greedy(3)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("prompt token 0 has id -5")));
  EXPECT_THAT(std::string(Generate(*model_, std::vector<int32_t>{}, Greedy(3)).status().message()),
              HasSubstr("no tokens"));
  EXPECT_THAT(std::string(Generate(*model_, std::vector<int32_t>(65, 1), Greedy(3))
                              .status()
                              .message()),
              HasSubstr("context"));
  GenerateOptions bad = Greedy(3);
  bad.sampling.top_p = 2.0f;
  EXPECT_THAT(
      Generate(*model_, std::vector<int32_t>{1}, bad),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("top_p must be in (0, 1], got 2")));
  EXPECT_THAT(
      Generate(*model_, std::vector<int32_t>{1}, Greedy(-1)),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_tokens must be >= 0, got -1")));
}

TEST_F(GenerateTest, SeededSamplingIsReproducible) {
  GenerateOptions o;
  o.max_tokens = 20;
  o.sampling.temperature = 1.0f;
  o.sampling.seed = 77;
  o.stop_ids = {-1};
  absl::StatusOr<GenerateResult> a = Generate(*model_, std::vector<int32_t>{1}, o);
  absl::StatusOr<GenerateResult> b = Generate(*model_, std::vector<int32_t>{1}, o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->tokens, b->tokens);
}

}  // namespace
}  // namespace accllm
