// The scheduler: iteration-level (continuous) batching over several workers,
// each with its own KV page pool (DESIGN.md "Scheduler").
//
// Per step of one worker, under its token budget:
//   1. deadlines are enforced (the request finishes with reason "deadline");
//   2. the highest-priority waiting request may preempt strictly lower
//      running ones when it cannot otherwise get pages;
//   3. every decoding sequence gets its one token (decode first, so a long
//      prefill never stalls running streams); when the pool runs dry the
//      lowest-priority, newest sequence is preempted by recompute: its pages
//      are freed and it waits again with all of its tokens;
//   4. prefills already under way continue in chunks;
//   5. waiting requests are admitted FCFS within priority while their pages
//      fit, each starting with a prefill chunk.
// Priority ages: a request's effective priority grows by one per
// `aging_period` since it arrived, so nothing starves.
//
// A sequence stays on the worker it was routed to (the least loaded that can
// hold it). When a worker fails, its sequences are requeued with every token
// they had and recomputed elsewhere; tokens already streamed are never
// streamed again because generated tokens are kept, not regenerated.
//
// Thread-compatible, not thread-safe: the server serializes calls. Callbacks
// run at the end of the public call that produced them, so they may call back
// into the scheduler (e.g. Cancel from on_token).
#ifndef ACCLLM_SCHEDULER_SCHEDULER_H_
#define ACCLLM_SCHEDULER_SCHEDULER_H_

#include <chrono>       // std::chrono::seconds
#include <cstdint>      // int32_t, int64_t
#include <functional>   // std::function
#include <memory>       // std::unique_ptr, std::shared_ptr
#include <optional>     // std::optional
#include <string>       // std::string
#include <string_view>  // std::string_view
#include <vector>       // std::vector

#include "absl/container/flat_hash_map.h"  // absl::flat_hash_map
#include "absl/status/status.h"            // absl::Status
#include "absl/status/statusor.h"          // absl::StatusOr
#include "scheduler/clock.h"               // Clock, Duration, TimePoint
#include "scheduler/lambda_page_table.h"   // LambdaPageTable
#include "scheduler/page_pool.h"           // PagePool
#include "scheduler/request.h"             // Request
#include "scheduler/request_types.h"       // RequestParams, ModelLimits, FinishReason
#include "scheduler/worker.h"              // StepBatch, StepOutput

namespace accllm::scheduler {

struct SchedulerOptions {
  int32_t token_budget = 512;                       // tokens fed per step per worker
  int32_t max_sequences_per_step = 256;             // chunks per step per worker
  Duration aging_period = std::chrono::seconds(1);  // +1 priority per period waited; 0: off
  bool prefix_sharing = true;  // share KV pages of identical prompt prefixes (copy-on-write)
  int32_t max_requeues = 3;    // worker failures one request survives
};

struct WorkerOptions {
  std::string name;
  int32_t num_pages = 1024;
  int32_t page_size = 16;
  int32_t token_budget = 0;  // 0: SchedulerOptions::token_budget
};

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;  // sampled, including a stop token or stop sequence
  int64_t emitted_tokens = 0;     // streamed to the client
  int32_t preemptions = 0;
  int32_t requeues = 0;
};

struct Completion {
  RequestId id = 0;
  FinishReason reason = FinishReason::kStop;
  std::string message;
  Usage usage;
};

struct RequestCallbacks {
  std::function<void(RequestId, int32_t token)> on_token;  // each streamed token, once
  std::function<void(const Completion&)> on_finished;      // exactly once
};

struct WorkerCounters {
  WorkerId id = 0;
  std::string name;
  bool alive = true;
  int32_t pages_used = 0;
  int32_t pages_total = 0;
  int32_t running = 0;
  int32_t waiting = 0;
  int64_t steps = 0;
  int64_t last_batch_tokens = 0;
};

struct SchedulerCounters {
  int64_t running = 0;  // admitted: prefilling or decoding
  int64_t waiting = 0;  // including requests no live worker holds
  int64_t preemptions_total = 0;
  int64_t requeues_total = 0;  // sequences moved off a failed worker
  int64_t worker_failures_total = 0;
  int64_t finished_total = 0;  // by reason stop or length
  int64_t cancelled_total = 0;
  int64_t deadline_total = 0;
  int64_t failed_total = 0;
  int64_t steps_total = 0;
  int64_t batch_tokens_total = 0;
  int64_t shared_prefix_tokens_total = 0;
  std::vector<WorkerCounters> workers;
};

class Scheduler {
 public:
  // `clock` must outlive the scheduler.
  Scheduler(ModelLimits limits, SchedulerOptions options, const Clock* clock);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  absl::StatusOr<WorkerId> AddWorker(WorkerOptions options);
  // The worker is gone: its sequences are recomputed on the others.
  absl::Status FailWorker(WorkerId worker, std::string_view why);
  // A draining worker gets no new requests; those it holds run to the end there.
  absl::Status SetDraining(WorkerId worker, bool draining);

  // Validates and queues a request. INVALID_ARGUMENT for bad parameters,
  // RESOURCE_EXHAUSTED when no worker's pool could ever hold it, UNAVAILABLE
  // when no worker is registered.
  absl::StatusOr<RequestId> Submit(RequestParams params, RequestCallbacks callbacks = {});
  // Ends a request at any point; its pages return to the pool at once.
  absl::Status Cancel(RequestId id);
  // Finishes every request whose deadline passed (PlanStep does this too).
  void ExpireDeadlines();
  // Ends every request no live worker holds (they wait for a worker that may
  // never come) with FinishReason::kError and `why`. Returns how many.
  int64_t FailPending(std::string_view why);

  // The next batch for `worker` (empty when it has nothing to do). At most one
  // step per worker is in flight: FAILED_PRECONDITION until it is completed.
  absl::StatusOr<StepBatch> PlanStep(WorkerId worker);
  // The outcome of the step in flight. An error status means the worker failed.
  absl::Status CompleteStep(WorkerId worker, absl::StatusOr<StepOutput> outcome);

  bool HasWork() const { return !entries_.empty(); }
  bool IsAlive(WorkerId worker) const;
  bool StepInFlight(WorkerId worker) const;
  std::vector<WorkerId> LiveWorkers() const;
  SchedulerCounters Counters() const;
  const PagePool* Pool(WorkerId worker) const;
  // For live (unfinished) requests; nullopt once finished and forgotten.
  std::optional<RequestState> GetState(RequestId id) const;
  std::optional<WorkerId> WorkerOf(RequestId id) const;
  int32_t PagesHeld(RequestId id) const;
  const ModelLimits& limits() const { return limits_; }

 private:
  struct Entry;
  struct WorkerState;
  struct PlannedChunk {
    RequestId id = 0;
    int64_t num_tokens = 0;
    bool sample = false;
  };
  struct PlanContext;

  Entry* Find(RequestId id);
  const Entry* Find(RequestId id) const;
  WorkerState* Live(WorkerId worker);
  int64_t EffectivePriority(const Entry& e, TimePoint now) const;
  // Strict order: true when `a` runs before `b`.
  bool Before(const Entry& a, const Entry& b, TimePoint now) const;
  std::vector<RequestId> SortedIds(const std::vector<RequestId>& ids, TimePoint now) const;
  int64_t MinPages(const Entry& e, int32_t page_size) const;

  // Puts a waiting request on the least-loaded live worker that can hold it;
  // false when none is live (it stays pending).
  bool Route(Entry& e);
  void RoutePending();
  void Preempt(WorkerState& w, Entry& e);
  // Ends a request; flushes held-back tokens first when `flush`.
  void FinishEntry(RequestId id, FinishReason reason, std::string message, bool flush);
  void Emit(Entry& e, const std::vector<int32_t>& tokens);
  void Dispatch();

  // PlanStep phases (scheduler_plan.cc).
  void PreemptForWaiting(PlanContext& ctx);
  void ScheduleDecodes(PlanContext& ctx);
  void ContinuePrefills(PlanContext& ctx);
  void AdmitWaiting(PlanContext& ctx);
  void AddChunk(PlanContext& ctx, Entry& e, int64_t n);
  bool ChunkLimitReached(const PlanContext& ctx) const;
  RequestId VictimAfter(const PlanContext& ctx, size_t after) const;
  void PreemptVictim(PlanContext& ctx, RequestId victim);
  // Shares pages of a running sequence with the same prefix; tokens adopted.
  int64_t AdoptSharedPrefix(WorkerState& w, Entry& e);

  ModelLimits limits_;
  SchedulerOptions options_;
  const Clock* clock_;
  RequestId next_id_ = 1;
  uint64_t next_seq_no_ = 0;
  absl::flat_hash_map<RequestId, std::unique_ptr<Entry>> entries_;
  std::vector<std::unique_ptr<WorkerState>> workers_;  // indexed by WorkerId
  std::vector<RequestId> pending_;                     // no live worker to hold them
  std::vector<std::function<void()>> events_;          // callbacks not yet run
  bool dispatching_ = false;
  SchedulerCounters totals_;  // the *_total fields
};

}  // namespace accllm::scheduler

#endif  // ACCLLM_SCHEDULER_SCHEDULER_H_
