// Scheduler policies on one worker, checked against the fake model run alone.
#include "scheduler/scheduler.h"

#include <gmock/gmock.h>

#include <algorithm>  // std::find
#include <chrono>     // std::chrono::seconds
#include <set>        // std::set
#include <string>     // std::string
#include <vector>     // std::vector

#include "gtest/gtest.h"              // TEST, EXPECT_*
#include "tests/scheduler/harness.h"  // Harness, Prompt, Pool
#include "tests/support/status_matchers.h"

namespace accllm::scheduler::testing {
namespace {

using ::accllm::testing::StatusIs;
using ::testing::HasSubstr;

RequestParams Params(int64_t prompt_len, int32_t max_tokens, uint64_t salt) {
  RequestParams p;
  p.prompt = Prompt(prompt_len, salt);
  p.max_tokens = max_tokens;
  return p;
}

// 16 requests of mixed attention, sampling and lengths.
std::vector<RequestParams> Mixed16() {
  std::vector<RequestParams> all;
  for (int i = 0; i < 16; ++i) {
    RequestParams p = Params(5 + 23 * i % 97, 10 + (i * 7) % 31, 100 + i);
    if (i % 3 == 1) p.attention = AttentionSpec::Dense();
    if (i % 3 == 2) p.attention = AttentionSpec::Lambda(2, 8);
    if (i % 2 == 1) {
      p.sampling.temperature = 0.8f;
      p.sampling.seed = 1000 + i;
    }
    all.push_back(p);
  }
  return all;
}

TEST(SchedulerTest, BatchedEqualsUnbatched) {
  SchedulerOptions options;
  options.token_budget = 64;  // forces chunked prefills next to decodes
  Harness together({Pool(256)}, options);
  const std::vector<RequestParams> all = Mixed16();
  std::vector<RequestId> ids;
  for (const RequestParams& p : all) ids.push_back(together.Submit(p));
  int64_t biggest_batch = 0;
  together.on_batch = [&](const StepBatch& b) {
    biggest_batch = std::max<int64_t>(biggest_batch, static_cast<int64_t>(b.chunks.size()));
  };
  together.RunUntilIdle();
  together.ExpectAllMatchReference();
  EXPECT_GE(biggest_batch, 8);  // really batched
  for (size_t i = 0; i < all.size(); ++i) {
    Harness alone({Pool(256)}, options);
    const RequestId id = alone.Submit(all[i]);
    alone.RunUntilIdle();
    EXPECT_EQ(alone.results[id].tokens, together.results[ids[i]].tokens) << i;
  }
  EXPECT_EQ(together.PagesUsed(0), 0);
}

TEST(SchedulerTest, DecodeNeverStarvedByA100kTokenPrefillAndBudgetHolds) {
  ModelLimits limits = TestLimits();
  limits.default_attention = AttentionSpec::Lambda(4, 1024);
  Harness h({Pool(160)}, {}, limits);  // budget 512
  std::vector<RequestId> short_ids;
  for (int i = 0; i < 4; ++i) short_ids.push_back(h.Submit(Params(20, 300, i)));
  ASSERT_TRUE(h.driver.RunRound().ok());  // their prefills
  const RequestId big = h.Submit(Params(100'000, 4, 99));
  const int64_t bound = LambdaPageTable::MaxPagesHeld(limits.default_attention, 16);
  int steps = 0;
  int64_t prefill_tokens_seen = 0;
  h.on_batch = [&](const StepBatch& b) {
    ++steps;
    std::set<RequestId> in_batch;
    for (const SequenceChunk& c : b.chunks) {
      in_batch.insert(c.request_id);
      if (c.request_id == big && c.first_position < 100'000) {
        prefill_tokens_seen += static_cast<int64_t>(c.tokens.size());
      }
    }
    for (RequestId id : short_ids) {
      if (h.scheduler.GetState(id) == RequestState::kDecoding) {
        EXPECT_TRUE(in_batch.count(id)) << "decode of " << id << " stalled at step " << steps;
      }
    }
  };
  while (h.scheduler.HasWork()) {
    ASSERT_TRUE(h.driver.RunRound().ok());
    // Between steps the long sequence stays within ceil(S/P) + W/P + 1 pages.
    ASSERT_LE(h.scheduler.PagesHeld(big), bound);
  }
  EXPECT_EQ(h.max_batch_tokens, 512);
  EXPECT_EQ(prefill_tokens_seen, 100'000);
  EXPECT_GT(steps, 100'000 / 512);
  h.ExpectAllMatchReference();
}

TEST(SchedulerTest, ChunkedPrefillCoversEachPromptExactlyOnce) {
  SchedulerOptions options;
  options.token_budget = 48;
  Harness h({Pool(512)}, options);
  std::vector<RequestId> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(h.Submit(Params(50 + 31 * i, 5, 7 + i)));
  h.RunUntilIdle();
  h.ExpectAllMatchReference();
  EXPECT_EQ(h.scheduler.Counters().preemptions_total, 0);
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::vector<int64_t>& fed = h.fakes[0]->fed().at(ids[i]);
    // Every position 0 .. prompt + generated - 2 fed once, in order.
    const int64_t expected = 50 + 31 * static_cast<int64_t>(i) + 5 - 1;
    ASSERT_EQ(static_cast<int64_t>(fed.size()), expected);
    for (int64_t p = 0; p < expected; ++p) ASSERT_EQ(fed[p], p);
  }
}

TEST(SchedulerTest, PreemptionAndResumeGiveExactlyTheUnpreemptedTokens) {
  SchedulerOptions options;
  options.token_budget = 32;
  Harness h({Pool(12, 4)}, options);  // 48 token slots for 8 dense sequences
  for (int i = 0; i < 8; ++i) {
    RequestParams p = Params(9 + i, 24, 300 + i);
    p.attention = AttentionSpec::Dense();
    if (i % 2) {
      p.sampling.temperature = 1.0f;
      p.sampling.seed = i;
    }
    h.Submit(p);
  }
  h.RunUntilIdle();
  h.ExpectAllMatchReference();
  EXPECT_GT(h.scheduler.Counters().preemptions_total, 0);
  int preempted_requests = 0;
  for (const auto& [id, r] : h.results) preempted_requests += r.done->usage.preemptions > 0;
  EXPECT_GT(preempted_requests, 0);
  EXPECT_EQ(h.PagesUsed(0), 0);
}

TEST(SchedulerTest, CancellationFreesPagesAtOnceEvenMidStep) {
  Harness h({Pool(64)});
  const RequestId a = h.Submit(Params(100, 50, 1));
  const RequestId b = h.Submit(Params(30, 50, 2));
  ASSERT_TRUE(h.driver.RunRound().ok());
  ASSERT_TRUE(h.driver.RunRound().ok());
  const int32_t b_pages = h.scheduler.PagesHeld(b);
  ASSERT_GT(h.scheduler.PagesHeld(a), 0);
  absl::StatusOr<StepBatch> batch = h.scheduler.PlanStep(0);
  ASSERT_TRUE(batch.ok());
  ASSERT_FALSE(batch->empty());
  const size_t emitted_before = h.results[a].tokens.size();
  ASSERT_TRUE(h.scheduler.Cancel(a).ok());  // while the step is in flight
  EXPECT_EQ(h.PagesUsed(0), h.scheduler.PagesHeld(b));
  EXPECT_GE(h.scheduler.PagesHeld(b), b_pages);
  ASSERT_TRUE(h.scheduler.CompleteStep(0, h.fakes[0]->Step(*batch)).ok());
  EXPECT_EQ(h.results[a].tokens.size(), emitted_before);  // nothing after cancel
  ASSERT_TRUE(h.results[a].done.has_value());
  EXPECT_EQ(h.results[a].done->reason, FinishReason::kCancelled);
  EXPECT_EQ(h.scheduler.Cancel(a).code(), absl::StatusCode::kNotFound);
  ASSERT_TRUE(h.scheduler.Cancel(b).ok());
  EXPECT_EQ(h.PagesUsed(0), 0);
  EXPECT_EQ(h.scheduler.Counters().cancelled_total, 2);
}

TEST(SchedulerTest, CancelFromTheTokenCallback) {
  Harness h({Pool(64)});
  RequestParams p = Params(10, 100, 5);
  RequestId id = 0;
  int tokens = 0;
  RequestCallbacks cb;
  cb.on_token = [&](RequestId r, int32_t) {
    if (++tokens == 3) {
      EXPECT_TRUE(h.scheduler.Cancel(r).ok());
    }
  };
  absl::StatusOr<RequestId> sub = h.scheduler.Submit(p, cb);
  ASSERT_TRUE(sub.ok());
  id = *sub;
  ASSERT_TRUE(h.driver.RunUntilIdle(1000).ok());
  EXPECT_EQ(tokens, 3);
  EXPECT_FALSE(h.scheduler.GetState(id).has_value());
  EXPECT_EQ(h.PagesUsed(0), 0);
}

TEST(SchedulerTest, DeadlinesFinishWithReasonDeadline) {
  Harness h({Pool(64)});
  RequestParams p = Params(10, 1000, 3);
  p.deadline = h.clock.Now() + std::chrono::seconds(5);
  const RequestId late = h.Submit(p);
  const RequestId fine = h.Submit(Params(10, 20, 4));
  h.driver.before_round = [&] { h.clock.Advance(std::chrono::seconds(1)); };
  h.RunUntilIdle();
  ASSERT_TRUE(h.results[late].done.has_value());
  EXPECT_EQ(h.results[late].done->reason, FinishReason::kDeadline);
  // It streamed a prefix of its reference tokens and then stopped.
  const std::vector<int32_t> want =
      ReferenceTokens(p.prompt, TestLimits().default_attention, p.sampling, 1000, 1000);
  const std::vector<int32_t>& got = h.results[late].tokens;
  EXPECT_GT(got.size(), 0u);
  EXPECT_LT(got.size(), 10u);
  EXPECT_TRUE(std::equal(got.begin(), got.end(), want.begin()));
  EXPECT_EQ(h.results[fine].done->reason, FinishReason::kLength);
  EXPECT_EQ(h.scheduler.Counters().deadline_total, 1);
  EXPECT_EQ(h.PagesUsed(0), 0);
}

TEST(SchedulerTest, DeadlineWhileWaiting) {
  Harness h({Pool(64)});
  RequestParams p = Params(10, 5, 3);
  p.deadline = h.clock.Now();  // already due
  const RequestId id = h.Submit(p);
  h.RunUntilIdle();
  EXPECT_EQ(h.results[id].done->reason, FinishReason::kDeadline);
  EXPECT_TRUE(h.results[id].tokens.empty());
}

// Each dense request (prompt 20 + 20 tokens) needs 3 pages of 16; the pool
// holds one at a time.
RequestParams OneAtATime(uint64_t salt, int32_t priority) {
  RequestParams p = Params(20, 20, salt);
  p.attention = AttentionSpec::Dense();
  p.priority = priority;
  return p;
}

TEST(SchedulerTest, HigherPriorityFirstAndFcfsWithinPriority) {
  SchedulerOptions options;
  options.aging_period = Duration::zero();
  Harness h({Pool(3)}, options);
  std::vector<RequestId> finish_order;
  h.on_batch = nullptr;
  const RequestId low1 = h.Submit(OneAtATime(1, 0));
  const RequestId low2 = h.Submit(OneAtATime(2, 0));
  const RequestId high = h.Submit(OneAtATime(3, 5));
  const RequestId low3 = h.Submit(OneAtATime(4, 0));
  while (h.scheduler.HasWork()) {
    ASSERT_TRUE(h.driver.RunRound().ok());
    for (RequestId id : {low1, low2, high, low3}) {
      if (h.results[id].done &&
          std::find(finish_order.begin(), finish_order.end(), id) == finish_order.end()) {
        finish_order.push_back(id);
      }
    }
  }
  EXPECT_EQ(finish_order, (std::vector<RequestId>{high, low1, low2, low3}));
  h.ExpectAllMatchReference();
}

TEST(SchedulerTest, HighPriorityArrivalPreemptsALowerOne) {
  SchedulerOptions options;
  options.aging_period = Duration::zero();
  Harness h({Pool(3)}, options);
  const RequestId low = h.Submit(OneAtATime(1, 0));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(h.driver.RunRound().ok());
  ASSERT_EQ(h.scheduler.GetState(low), RequestState::kDecoding);
  const RequestId high = h.Submit(OneAtATime(2, 9));
  ASSERT_TRUE(h.driver.RunRound().ok());
  EXPECT_EQ(h.scheduler.GetState(low), RequestState::kWaiting);
  h.RunUntilIdle();
  EXPECT_EQ(h.results[low].done->usage.preemptions, 1);
  EXPECT_EQ(h.results[high].done->usage.preemptions, 0);
  h.ExpectAllMatchReference();  // the preempted one resumed exactly
}

TEST(SchedulerTest, AgingPreventsStarvation) {
  for (const bool aging : {true, false}) {
    SchedulerOptions options;
    options.aging_period = aging ? std::chrono::seconds(1) : Duration::zero();
    Harness h({Pool(3)}, options);
    const RequestId low = h.Submit(OneAtATime(1, 0));
    h.Submit(OneAtATime(2, 10));
    h.driver.before_round = [&] { h.clock.Advance(std::chrono::seconds(1)); };
    // A high-priority request arrives every round for 400 rounds.
    int round = 0;
    for (; round < 400 && !h.results[low].done; ++round) {
      h.Submit(OneAtATime(1000 + round, 10));
      ASSERT_TRUE(h.driver.RunRound().ok());
    }
    if (aging) {
      EXPECT_TRUE(h.results[low].done.has_value()) << "starved with aging";
    } else {
      EXPECT_FALSE(h.results[low].done.has_value()) << "the contrast case should starve";
    }
  }
}

TEST(SchedulerTest, AdmissionRefusesWhatNoPoolCanHold) {
  Harness h({Pool(8)});  // 128 token slots
  RequestParams dense = Params(100, 100, 1);
  dense.attention = AttentionSpec::Dense();
  absl::StatusOr<RequestId> r = h.TrySubmit(dense);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(r.status().message()).find("needs at least 13 KV pages"), std::string::npos)
      << r.status();
  RequestParams wide = Params(100, 1000, 1);
  wide.attention = AttentionSpec::Lambda(4, 1024);  // 66 pages once long
  EXPECT_EQ(h.TrySubmit(wide).status().code(), absl::StatusCode::kResourceExhausted);
  wide.max_tokens = 20;  // 119 positions: 8 pages, fits
  EXPECT_TRUE(h.TrySubmit(wide).ok());
  RequestParams narrow = Params(100, 100000, 1);
  narrow.attention = AttentionSpec::Lambda(4, 64);  // 1 + 4 + 1 pages however long
  EXPECT_TRUE(h.TrySubmit(narrow).ok());
}

TEST(SchedulerTest, BadRequestsGiveClearErrors) {
  Harness h({Pool(8)});
  RequestParams p = Params(10, 5, 1);
  p.prompt.clear();
  EXPECT_EQ(h.TrySubmit(p).status().code(), absl::StatusCode::kInvalidArgument);
  p = Params(10, 5, 1);
  p.attention = AttentionSpec::Lambda(0, 0);
  EXPECT_EQ(h.TrySubmit(p).status().code(), absl::StatusCode::kInvalidArgument);
  p.attention = AttentionSpec::Lambda(16, 8);
  EXPECT_EQ(h.TrySubmit(p).status().code(), absl::StatusCode::kInvalidArgument);
  p = Params(10, 5, 1);
  p.prompt[3] = 5000;
  EXPECT_EQ(h.TrySubmit(p).status().code(), absl::StatusCode::kInvalidArgument);
  Scheduler empty(TestLimits(), {}, &h.clock);
  EXPECT_EQ(empty.Submit(Params(10, 5, 1)).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(empty.PlanStep(3).status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(empty.AddWorker(Pool(0)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("num_pages (0)")));
}

TEST(SchedulerTest, StopTokensAndStopSequencesEndToEnd) {
  Harness h({Pool(64)});
  RequestParams base = Params(12, 40, 77);
  const std::vector<int32_t> ref =
      ReferenceTokens(base.prompt, TestLimits().default_attention, base.sampling, 40, 1000);
  RequestParams by_token = base;
  by_token.stop_token_ids = {ref[10]};
  RequestParams by_sequence = base;
  by_sequence.stop_sequences = {{ref[6], ref[7], ref[8]}, {999, 998}};
  RequestParams false_start = base;
  false_start.stop_sequences = {{ref[4], ref[5], (ref[6] + 1) % 1000}};
  const RequestId a = h.Submit(by_token);
  const RequestId b = h.Submit(by_sequence);
  const RequestId c = h.Submit(false_start);
  h.RunUntilIdle();
  h.ExpectAllMatchReference();
  EXPECT_EQ(h.results[a].done->reason, FinishReason::kStop);
  EXPECT_EQ(h.results[b].done->reason, FinishReason::kStop);
  EXPECT_LE(h.results[b].tokens.size(), 6u);
  EXPECT_EQ(h.results[c].tokens, ref);  // held back, then released
}

TEST(SchedulerTest, SharedPromptPrefixReusesPagesCopyOnWrite) {
  SchedulerOptions options;
  Harness h({Pool(64)}, options);
  RequestParams first = Params(40, 30, 5);
  first.attention = AttentionSpec::Lambda(4, 64);
  RequestParams second = first;
  second.prompt.resize(37);  // 37 shared tokens: 2 full pages + a partial one
  second.prompt.push_back(1);
  second.prompt.push_back(2);
  RequestParams third = first;  // identical prompt
  third.sampling.temperature = 1.0f;
  const RequestId a = h.Submit(first);
  ASSERT_TRUE(h.driver.RunRound().ok());  // a's prompt is cached
  const int32_t used_by_a = h.PagesUsed(0);
  h.Submit(second);
  h.Submit(third);
  ASSERT_TRUE(h.driver.RunRound().ok());
  EXPECT_EQ(h.scheduler.Counters().shared_prefix_tokens_total, 37 + 39);
  // Without sharing b and c would each need 3 pages of their own.
  EXPECT_LT(h.PagesUsed(0), used_by_a + 6 + 2);
  EXPECT_GT(h.scheduler.PagesHeld(a), 0);
  h.RunUntilIdle();
  h.ExpectAllMatchReference();  // copy-on-write kept every sequence's tokens
  EXPECT_EQ(h.PagesUsed(0), 0);
}

TEST(SchedulerTest, CountersForMetrics) {
  Harness h({Pool(64)});
  h.Submit(Params(10, 3, 1));
  h.Submit(Params(10, 3, 2));
  SchedulerCounters c = h.scheduler.Counters();
  EXPECT_EQ(c.waiting, 2);
  EXPECT_EQ(c.running, 0);
  ASSERT_TRUE(h.driver.RunRound().ok());
  c = h.scheduler.Counters();
  EXPECT_EQ(c.running, 2);
  EXPECT_EQ(c.workers[0].pages_used, 2);
  EXPECT_EQ(c.workers[0].pages_total, 64);
  EXPECT_EQ(c.workers[0].last_batch_tokens, 20);
  h.RunUntilIdle();
  c = h.scheduler.Counters();
  EXPECT_EQ(c.finished_total, 2);
  EXPECT_EQ(c.steps_total, 3);
  EXPECT_EQ(c.batch_tokens_total, 20 + 2 + 2);
}

}  // namespace
}  // namespace accllm::scheduler::testing
