// The checks a worker runs on every chunk before its backend sees it (BackendWorker's
// PrepareChunk and the PageTable it reads): each bad chunk is an error with the right code,
// naming the request and what is wrong; nothing runs, and the worker serves on.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "model/llama2c_checkpoint.h"        // ImportLlama2c
#include "model/model_dir.h"                 // OpenModelDir
#include "tests/support/llama2c_fixture.h"   // WriteRandomLlama2c
#include "tests/support/test_env.h"          // TempDir
#include "workers/backend/backend_worker.h"  // BackendWorker
#include "workers/backend/page_table.h"      // PageTable
#include "workers/engine/cpu_backend.h"      // CpuBackend
#include "workers/engine/llama_model.h"      // LlamaModel

namespace accllm {
namespace {

using ::testing::HasSubstr;

TEST(PageTableTest, FindsPagesAndNamesTheFirstMissingOne) {
  const PageTable table({{0, 4}, {2, 9}, {3, 1}}, 8);
  EXPECT_EQ(table.PhysicalPage(0), 4);
  EXPECT_EQ(table.PhysicalPage(7), 4);
  EXPECT_EQ(table.PhysicalPage(8), -1);  // logical page 1 is not held
  EXPECT_EQ(table.PhysicalPage(16), 9);
  EXPECT_EQ(table.PhysicalPage(31), 1);
  EXPECT_EQ(table.PhysicalPage(32), -1);
  // Λ(2, 12) at 30 reads sinks 0..1 and the window 19..30: pages 0, 2, 3. Held.
  EXPECT_TRUE(table.CheckCovers(30, AttentionWindow::Lambda(2, 12), 16).ok());
  // Dense attention at 30 reads every position: page 1 is missing.
  absl::Status dense = table.CheckCovers(30, AttentionWindow::Dense(), 16);
  EXPECT_EQ(dense.code(), absl::StatusCode::kFailedPrecondition) << dense;
  EXPECT_THAT(std::string(dense.message()), HasSubstr("window position 8 of the query at 30"));
}

TEST(PageTableTest, EveryKindOfUncoveredQueryIsAnError) {
  const PageTable table({{0, 4}, {2, 9}, {3, 1}}, 8);
  const AttentionWindow lambda = AttentionWindow::Lambda(2, 12);
  absl::Status s = table.CheckCovers(-1, lambda, 16);
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("position -1 is negative"));
  s = table.CheckCovers(33, lambda, 16);  // writes into logical page 4
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("position 33 (logical page 4)"));
  s = table.CheckCovers(20, lambda, 16);  // its window reaches back into page 1
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("window position"));
  s = table.CheckCovers(20, lambda, 9);  // page 9 is outside a pool of 9
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("physical page 9 is outside the pool of 9"));
  const PageTable no_sinks({{2, 9}, {3, 1}}, 8);
  s = no_sinks.CheckCovers(30, lambda, 16);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("sink position 0 has no page"));
}

class StepChecksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::Llama2cShape shape;
    shape.vocab_size = 64;
    testing::WriteRandomLlama2c(tmp_ / "m.bin", shape, 3);
    ASSERT_TRUE(ImportLlama2c(tmp_ / "m.bin", tmp_ / "m", {}).ok());
    absl::StatusOr<ModelDir> dir = OpenModelDir(tmp_ / "m");
    ASSERT_TRUE(dir.ok()) << dir.status();
    model_ = *LlamaModel::Load(*dir);
    worker_ = std::make_unique<BackendWorker>(CpuBackend::Wrap(model_, /*pages=*/6, /*P=*/4));
  }

  // Sequence 12 prefills 5 tokens over pages 0..1 (physical 2, 3) and samples.
  static scheduler::StepBatch Good() {
    scheduler::SequenceChunk c;
    c.request_id = 12;
    c.tokens = {1, 7, 9, 11, 13};
    c.pages = {{0, 2}, {1, 3}};
    c.attention = AttentionWindow::Lambda(2, 8);
    c.page_size = 4;
    c.sample = true;
    c.sample_position = 5;
    scheduler::StepBatch b;
    b.chunks = {c};
    return b;
  }

  testing::TempDir tmp_;
  std::shared_ptr<const LlamaModel> model_;
  std::unique_ptr<BackendWorker> worker_;
};

TEST_F(StepChecksTest, EachBadChunkIsAnErrorNamingTheRequest) {
  absl::StatusOr<scheduler::StepOutput> good = worker_->Step(Good());
  ASSERT_TRUE(good.ok()) << good.status();
  ASSERT_EQ(good->tokens.size(), 1u);
  struct Bad {
    std::string name;
    std::function<void(scheduler::SequenceChunk&)> edit;
    absl::StatusCode code;
    std::string words;
  };
  const std::vector<Bad> cases = {
      {"page size", [](scheduler::SequenceChunk& c) { c.page_size = 8; },
       absl::StatusCode::kInvalidArgument, "chunk page size 8 differs from the worker's 4"},
      {"token", [](scheduler::SequenceChunk& c) { c.tokens[3] = 64; },
       absl::StatusCode::kInvalidArgument, "token id 64 is outside the vocabulary [0, 64)"},
      {"negative token", [](scheduler::SequenceChunk& c) { c.tokens[0] = -2; },
       absl::StatusCode::kInvalidArgument, "token id -2"},
      {"negative position", [](scheduler::SequenceChunk& c) { c.first_position = -1; },
       absl::StatusCode::kOutOfRange, "position -1 is negative"},
      {"page missing", [](scheduler::SequenceChunk& c) { c.pages.pop_back(); },
       absl::StatusCode::kFailedPrecondition, "position 4 (logical page 1)"},
      {"page outside the pool", [](scheduler::SequenceChunk& c) { c.pages[1].physical = 6; },
       absl::StatusCode::kOutOfRange, "physical page 6 is outside the pool of 6"},
      {"copy source", [](scheduler::SequenceChunk& c) { c.page_copies = {{6, 1}}; },
       absl::StatusCode::kOutOfRange, "page copy 6 → 1 is outside the pool"},
      {"copy target", [](scheduler::SequenceChunk& c) { c.page_copies = {{1, -1}}; },
       absl::StatusCode::kOutOfRange, "page copy 1 → -1 is outside the pool"},
  };
  for (const Bad& bad : cases) {
    scheduler::StepBatch batch = Good();
    bad.edit(batch.chunks[0]);
    absl::StatusOr<scheduler::StepOutput> out = worker_->Step(batch);
    ASSERT_FALSE(out.ok()) << bad.name;
    EXPECT_EQ(out.status().code(), bad.code) << bad.name << ": " << out.status();
    EXPECT_THAT(std::string(out.status().message()), HasSubstr("request 12: ")) << bad.name;
    EXPECT_THAT(std::string(out.status().message()), HasSubstr(bad.words)) << bad.name;
  }
  // Nothing of the bad steps ran: the same good step samples the same token.
  absl::StatusOr<scheduler::StepOutput> again = worker_->Step(Good());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->tokens[0].token, good->tokens[0].token);
}

}  // namespace
}  // namespace accllm
