// Serving in two stages through the scheduler on one backend model, for prefix-sharing
// tests: `first` requests run their prefill alone, then `later` ones arrive while they run
// and may adopt their KV pages. The model's page copies (copy-on-write) are counted.
#ifndef ACCLLM_TESTS_WORKERS_BACKEND_STAGED_SERVING_H_
#define ACCLLM_TESTS_WORKERS_BACKEND_STAGED_SERVING_H_

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <vector>

#include "scheduler/clock.h"                 // FakeClock
#include "scheduler/scheduler.h"             // Scheduler
#include "scheduler/sync_driver.h"           // SyncDriver
#include "workers/backend/backend.h"         // BackendModel
#include "workers/backend/backend_worker.h"  // BackendWorker

namespace accllm::testing {

// A backend's model with its page copies counted; `drop_copies` skips them (copy-on-write
// off), to show that a test comparing tokens notices a missing copy.
class CountingModel : public BackendModel {
 public:
  CountingModel(std::unique_ptr<BackendModel> inner, bool drop_copies)
      : inner_(std::move(inner)), drop_copies_(drop_copies) {}
  const ModelConfig& config() const override { return inner_->config(); }
  KvFormat kv_format() const override { return inner_->kv_format(); }
  int32_t num_pages() const override { return inner_->num_pages(); }
  int32_t page_size() const override { return inner_->page_size(); }
  absl::Status CopyPage(int32_t from, int32_t to) override {
    ++copies;
    return drop_copies_ ? absl::OkStatus() : inner_->CopyPage(from, to);
  }
  absl::Status Forward(std::span<const scheduler::SequenceChunk> chunks,
                       std::vector<std::vector<float>>& logits) override {
    return inner_->Forward(chunks, logits);
  }
  int64_t WeightBytesPerStep() const override { return inner_->WeightBytesPerStep(); }
  double LinearBitsPerWeight() const override { return inner_->LinearBitsPerWeight(); }
  DeviceCounters counters() const override { return inner_->counters(); }

  std::atomic<int> copies = 0;

 private:
  std::unique_ptr<BackendModel> inner_;
  bool drop_copies_;
};

struct Served {
  std::vector<std::vector<int32_t>> tokens;  // per request, in submission order
  int page_copies = 0;                       // CopyPage calls the backend saw
  int64_t shared_prefix_tokens = 0;          // tokens the scheduler adopted
};

// Runs `first`, one round (their prompts' K/V now exist), then submits `later` and runs
// until every request finished. One worker with the model's pool; token budget 256.
inline Served ServeStaged(std::unique_ptr<BackendModel> model,
                          const scheduler::ModelLimits& limits,
                          const std::vector<scheduler::RequestParams>& first,
                          const std::vector<scheduler::RequestParams>& later,
                          bool drop_copies = false) {
  scheduler::FakeClock clock;
  scheduler::SchedulerOptions options;
  options.token_budget = 256;
  scheduler::Scheduler sched(limits, options, &clock);
  scheduler::WorkerOptions wo;
  wo.name = "w";
  wo.num_pages = model->num_pages();
  wo.page_size = model->page_size();
  absl::StatusOr<scheduler::WorkerId> id = sched.AddWorker(wo);
  EXPECT_TRUE(id.ok());
  auto counting = std::make_shared<CountingModel>(std::move(model), drop_copies);
  BackendWorker worker(counting);
  scheduler::SyncDriver driver(sched);
  driver.Attach(*id, &worker);
  Served run;
  std::map<scheduler::RequestId, size_t> index;
  auto submit = [&](const scheduler::RequestParams& r) {
    run.tokens.emplace_back();
    absl::StatusOr<scheduler::RequestId> rid = sched.Submit(
        r, {.on_token = [&run, &index](scheduler::RequestId id,
                                       int32_t t) { run.tokens[index.at(id)].push_back(t); },
            .on_finished = nullptr});
    EXPECT_TRUE(rid.ok()) << rid.status();
    if (rid.ok()) index[*rid] = run.tokens.size() - 1;
  };
  for (const scheduler::RequestParams& r : first) submit(r);
  if (!later.empty()) {
    absl::StatusOr<int64_t> fed = driver.RunRound();
    EXPECT_TRUE(fed.ok()) << fed.status();
    for (const scheduler::RequestParams& r : later) submit(r);
  }
  absl::Status s = driver.RunUntilIdle();
  EXPECT_TRUE(s.ok()) << s;
  run.page_copies = counting->copies.load();
  run.shared_prefix_tokens = sched.Counters().shared_prefix_tokens_total;
  return run;
}

}  // namespace accllm::testing

#endif  // ACCLLM_TESTS_WORKERS_BACKEND_STAGED_SERVING_H_
