// Several workers: routing, stickiness, and recompute after worker failure.
#include <gmock/gmock.h>

#include <map>     // std::map
#include <string>  // std::string
#include <vector>  // std::vector

#include "gtest/gtest.h"              // TEST, EXPECT_*
#include "scheduler/scheduler.h"      // Scheduler
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
  if (salt % 2) {
    p.sampling.temperature = 0.7f;
    p.sampling.seed = salt;
  }
  if (salt % 3 == 0) p.attention = AttentionSpec::Lambda(2, 16);
  return p;
}

TEST(MultiWorkerTest, RoutesToTheLeastLoadedWorkerAndSequencesStayPut) {
  Harness h({Pool(64), Pool(64)});
  std::vector<RequestId> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(h.Submit(Params(30, 20, 10 + i)));
  std::map<RequestId, WorkerId> home;
  for (RequestId id : ids) home[id] = *h.scheduler.WorkerOf(id);
  EXPECT_EQ(home[ids[0]], 0);
  EXPECT_EQ(home[ids[1]], 1);
  EXPECT_EQ(home[ids[2]], 0);
  EXPECT_EQ(home[ids[3]], 1);
  while (h.scheduler.HasWork()) {
    ASSERT_TRUE(h.driver.RunRound().ok());
    for (RequestId id : ids) {
      if (h.scheduler.WorkerOf(id)) {
        EXPECT_EQ(*h.scheduler.WorkerOf(id), home[id]);
      }
    }
  }
  h.ExpectAllMatchReference();
}

TEST(MultiWorkerTest, RoutingSkipsPoolsTooSmallForTheRequest) {
  Harness h({Pool(2), Pool(64)});
  RequestParams big = Params(100, 10, 4);
  big.attention = AttentionSpec::Dense();
  const RequestId id = h.Submit(big);
  EXPECT_EQ(h.scheduler.WorkerOf(id), 1);
  h.RunUntilIdle();
  h.ExpectAllMatchReference();
}

TEST(MultiWorkerTest, ADrainingWorkerTakesNothingNewAndFinishesWhatItHolds) {
  Harness h({Pool(64), Pool(64)});
  const RequestId first = h.Submit(Params(30, 20, 10));
  ASSERT_EQ(h.scheduler.WorkerOf(first), 0);
  ASSERT_TRUE(h.scheduler.SetDraining(0, true).ok());
  // Worker 0 is the less loaded one only by request count: nothing new goes there.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(h.scheduler.WorkerOf(h.Submit(Params(8, 5, 20 + i))), 1);
  ASSERT_TRUE(h.scheduler.SetDraining(1, true).ok());
  const RequestId stranded = h.Submit(Params(8, 5, 30));
  EXPECT_FALSE(h.scheduler.WorkerOf(stranded).has_value());  // waits for an admitting worker
  ASSERT_TRUE(h.scheduler.SetDraining(1, false).ok());
  EXPECT_EQ(h.scheduler.WorkerOf(stranded), 1);
  EXPECT_EQ(h.scheduler.WorkerOf(first), 0);  // held requests stay and finish on the drained one
  h.RunUntilIdle();
  h.ExpectAllMatchReference();
  EXPECT_THAT(h.scheduler.SetDraining(7, true),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("worker 7")));
}

TEST(MultiWorkerTest, FailPendingEndsRequestsNoWorkerHoldsAndOnlyThose) {
  Harness h({Pool(64), Pool(64)});
  const RequestId a = h.Submit(Params(10, 40, 1));
  const RequestId b = h.Submit(Params(10, 40, 2));
  ASSERT_TRUE(h.driver.RunRound().ok());
  ASSERT_TRUE(h.scheduler.FailWorker(*h.scheduler.WorkerOf(a), "gone").ok());
  EXPECT_EQ(h.scheduler.FailPending("no worker"), 0);  // a moved to the other worker
  ASSERT_TRUE(h.scheduler.FailWorker(*h.scheduler.WorkerOf(b), "gone").ok());
  EXPECT_EQ(h.scheduler.FailPending("no worker left"), 2);
  EXPECT_FALSE(h.scheduler.HasWork());
  for (RequestId id : {a, b}) {
    ASSERT_TRUE(h.results[id].done.has_value());
    EXPECT_EQ(h.results[id].done->reason, FinishReason::kError);
    EXPECT_EQ(h.results[id].done->message, "no worker left");
    EXPECT_EQ(h.results[id].finished_calls, 1);
  }
}

TEST(MultiWorkerTest, WorkerFailureMidStreamLosesNothingAndDuplicatesNothing) {
  SchedulerOptions options;
  options.token_budget = 40;
  Harness h({Pool(64), Pool(64), Pool(64)}, options);
  for (int i = 0; i < 12; ++i) h.Submit(Params(20 + 9 * i, 30, 50 + i));
  h.fakes[1]->FailAtStep(6);  // well after its sequences started streaming
  h.RunUntilIdle();
  h.ExpectAllMatchReference();  // exactly the tokens of a run without failure
  const SchedulerCounters c = h.scheduler.Counters();
  EXPECT_EQ(c.worker_failures_total, 1);
  EXPECT_GT(c.requeues_total, 0);
  EXPECT_EQ(h.scheduler.LiveWorkers(), (std::vector<WorkerId>{0, 2}));
  int requeued = 0;
  for (const auto& [id, r] : h.results) requeued += r.done->usage.requeues;
  EXPECT_EQ(requeued, c.requeues_total);
  EXPECT_EQ(h.PagesUsed(0) + h.PagesUsed(2), 0);
}

TEST(MultiWorkerTest, RequestsWaitForANewWorkerWhenAllFailed) {
  Harness h({Pool(64)});
  for (int i = 0; i < 3; ++i) h.Submit(Params(25, 15, 70 + i));
  h.fakes[0]->FailAtStep(3);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(h.driver.RunRound().ok());
  ASSERT_TRUE(h.scheduler.LiveWorkers().empty());
  EXPECT_EQ(h.scheduler.Counters().waiting, 3);
  h.AddWorker(Pool(64));
  h.RunUntilIdle();
  h.ExpectAllMatchReference();
}

// Drops the last sampled token: a broken worker.
class TruncatingWorker : public Worker {
 public:
  explicit TruncatingWorker(Worker* inner) : inner_(inner) {}
  absl::StatusOr<StepOutput> Step(const StepBatch& batch) override {
    absl::StatusOr<StepOutput> out = inner_->Step(batch);
    if (out.ok() && !out->tokens.empty()) out->tokens.pop_back();
    return out;
  }

 private:
  Worker* inner_;
};

TEST(MultiWorkerTest, AMalformedStepResultFailsTheWorkerAndRecomputesElsewhere) {
  Harness h({Pool(64), Pool(64)});
  TruncatingWorker broken(h.fakes[0].get());
  h.driver.Attach(0, &broken);
  for (int i = 0; i < 4; ++i) h.Submit(Params(10, 8, 90 + i));
  h.RunUntilIdle();
  EXPECT_FALSE(h.scheduler.IsAlive(0));
  h.ExpectAllMatchReference();
}

TEST(MultiWorkerTest, GivesUpAfterTooManyWorkerFailures) {
  SchedulerOptions options;
  options.max_requeues = 0;
  Harness h({Pool(64), Pool(64)}, options);
  const RequestId id = h.Submit(Params(10, 8, 2));
  ASSERT_EQ(h.scheduler.WorkerOf(id), 0);
  ASSERT_TRUE(h.driver.RunRound().ok());
  ASSERT_TRUE(h.scheduler.FailWorker(0, "lost heartbeat").ok());
  ASSERT_TRUE(h.results[id].done.has_value());
  EXPECT_EQ(h.results[id].done->reason, FinishReason::kError);
  EXPECT_NE(h.results[id].done->message.find("lost heartbeat"), std::string::npos);
  EXPECT_EQ(h.scheduler.FailWorker(0, "again").code(), absl::StatusCode::kNotFound);
}

TEST(MultiWorkerTest, OneStepInFlightPerWorker) {
  Harness h({Pool(64)});
  h.Submit(Params(10, 8, 2));
  absl::StatusOr<StepBatch> batch = h.scheduler.PlanStep(0);
  ASSERT_TRUE(batch.ok());
  EXPECT_TRUE(h.scheduler.StepInFlight(0));
  EXPECT_EQ(h.scheduler.PlanStep(0).status().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(h.scheduler.CompleteStep(0, h.fakes[0]->Step(*batch)).ok());
  EXPECT_EQ(h.scheduler.CompleteStep(0, StepOutput{}).code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace accllm::scheduler::testing
