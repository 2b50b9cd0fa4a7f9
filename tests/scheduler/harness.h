// A scheduler with fake workers, a fake clock and a recorder of what each
// client saw, checking on every batch that the token budget holds.
#ifndef ACCLLM_TESTS_SCHEDULER_HARNESS_H_
#define ACCLLM_TESTS_SCHEDULER_HARNESS_H_

#include <algorithm>   // std::max
#include <functional>  // std::function
#include <map>         // std::map
#include <memory>      // std::unique_ptr
#include <optional>    // std::optional
#include <vector>      // std::vector

#include "gtest/gtest.h"                     // ADD_FAILURE, EXPECT_*
#include "scheduler/clock.h"                 // FakeClock
#include "scheduler/scheduler.h"             // Scheduler
#include "scheduler/sync_driver.h"           // SyncDriver
#include "tests/scheduler/fake_lm_worker.h"  // FakeLmWorker

namespace accllm::scheduler::testing {

struct Recorded {
  std::vector<int32_t> tokens;
  std::optional<Completion> done;
  int finished_calls = 0;
};

inline ModelLimits TestLimits() {
  ModelLimits limits;
  limits.vocab_size = 1000;
  limits.max_dense_context = 1 << 20;
  limits.default_attention = AttentionSpec::Lambda(4, 32);
  return limits;
}

class Harness {
 public:
  Harness(std::vector<WorkerOptions> workers, SchedulerOptions options = {},
          ModelLimits limits = TestLimits())
      : scheduler(limits, options, &clock), driver(scheduler), options_(options) {
    for (WorkerOptions& w : workers) AddWorker(w);
    driver.on_batch = [this](const StepBatch& batch) {
      const int64_t budget = budgets_[batch.worker];
      EXPECT_LE(batch.num_tokens(), budget) << "step " << batch.step_id;
      max_batch_tokens = std::max(max_batch_tokens, batch.num_tokens());
      if (on_batch) on_batch(batch);
    };
  }

  WorkerId AddWorker(const WorkerOptions& w) {
    absl::StatusOr<WorkerId> id = scheduler.AddWorker(w);
    EXPECT_TRUE(id.ok()) << id.status();
    fakes[*id] =
        std::make_unique<FakeLmWorker>(w.num_pages, w.page_size, scheduler.limits().vocab_size);
    budgets_[*id] = w.token_budget > 0 ? w.token_budget : options_.token_budget;
    driver.Attach(*id, fakes[*id].get());
    return *id;
  }

  absl::StatusOr<RequestId> TrySubmit(const RequestParams& params) {
    RequestCallbacks callbacks;
    callbacks.on_token = [this](RequestId id, int32_t token) {
      EXPECT_FALSE(results[id].done.has_value()) << "token after finish";
      results[id].tokens.push_back(token);
    };
    callbacks.on_finished = [this](const Completion& done) {
      results[done.id].done = done;
      ++results[done.id].finished_calls;
    };
    absl::StatusOr<RequestId> id = scheduler.Submit(params, std::move(callbacks));
    if (id.ok()) {
      params_[*id] = params;
      results[*id];
    }
    return id;
  }

  RequestId Submit(const RequestParams& params) {
    absl::StatusOr<RequestId> id = TrySubmit(params);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.ok() ? *id : 0;
  }

  void RunUntilIdle() {
    absl::Status s = driver.RunUntilIdle(1'000'000);
    EXPECT_TRUE(s.ok()) << s;
  }

  // Every request saw exactly what it would see run alone.
  void ExpectAllMatchReference() {
    for (const auto& [id, params] : params_) {
      const Recorded& r = results[id];
      ASSERT_TRUE(r.done.has_value()) << "request " << id << " never finished";
      EXPECT_EQ(r.finished_calls, 1);
      if (r.done->reason == FinishReason::kCancelled || r.done->reason == FinishReason::kDeadline ||
          r.done->reason == FinishReason::kError) {
        continue;
      }
      const AttentionSpec attention =
          params.attention.value_or(scheduler.limits().default_attention);
      const ExpectedStream want = Expect(params, attention, scheduler.limits().vocab_size);
      EXPECT_EQ(r.tokens, want.tokens) << "request " << id;
      EXPECT_EQ(r.done->reason, want.reason) << "request " << id;
      EXPECT_EQ(r.done->usage.completion_tokens, want.generated) << "request " << id;
    }
    for (const auto& [wid, fake] : fakes) {
      EXPECT_TRUE(fake->errors().empty()) << "worker " << wid << ": " << fake->errors().front();
    }
  }

  int32_t PagesUsed(WorkerId w) const { return scheduler.Pool(w)->num_used(); }

  FakeClock clock;
  Scheduler scheduler;
  SyncDriver driver;
  std::map<WorkerId, std::unique_ptr<FakeLmWorker>> fakes;
  std::map<RequestId, Recorded> results;
  std::function<void(const StepBatch&)> on_batch;
  int64_t max_batch_tokens = 0;

 private:
  SchedulerOptions options_;
  std::map<WorkerId, int64_t> budgets_;
  std::map<RequestId, RequestParams> params_;
};

inline std::vector<int32_t> Prompt(int64_t n, uint64_t salt, int32_t vocab = 1000) {
  std::vector<int32_t> p(n);
  for (int64_t i = 0; i < n; ++i) p[i] = static_cast<int32_t>(Mix(salt, i) % vocab);
  return p;
}

inline WorkerOptions Pool(int32_t pages, int32_t page_size = 16, int32_t budget = 0) {
  WorkerOptions w;
  w.name = "fake";
  w.num_pages = pages;
  w.page_size = page_size;
  w.token_budget = budget;
  return w;
}

}  // namespace accllm::scheduler::testing

#endif  // ACCLLM_TESTS_SCHEDULER_HARNESS_H_
