// The scheduler's private bookkeeping, shared by scheduler.cc (requests,
// workers, completion) and scheduler_plan.cc (building a step). Not an API.
#ifndef ACCLLM_SCHEDULER_SCHEDULER_INTERNAL_H_
#define ACCLLM_SCHEDULER_SCHEDULER_INTERNAL_H_

#include <cstdint>   // int32_t, int64_t, uint64_t
#include <memory>    // std::shared_ptr
#include <optional>  // std::optional
#include <vector>    // std::vector

#include "absl/container/flat_hash_set.h"  // absl::flat_hash_set
#include "scheduler/lambda_page_table.h"   // LambdaPageTable
#include "scheduler/page_pool.h"           // PagePool
#include "scheduler/request.h"             // Request
#include "scheduler/scheduler.h"           // Scheduler, RequestCallbacks, WorkerOptions

namespace accllm::scheduler {

struct Scheduler::Entry {
  Entry(Request r, std::shared_ptr<const RequestCallbacks> cb, uint64_t seq)
      : request(std::move(r)), callbacks(std::move(cb)), seq_no(seq) {}

  Request request;
  std::shared_ptr<const RequestCallbacks> callbacks;
  uint64_t seq_no;                       // submission order: FCFS within priority
  std::optional<WorkerId> worker;        // where it is queued or running
  std::optional<LambdaPageTable> table;  // while admitted (prefilling or decoding)
};

struct Scheduler::WorkerState {
  WorkerState(WorkerId i, WorkerOptions o)
      : id(i), options(std::move(o)), pool(options.num_pages, options.page_size) {}

  WorkerId id;
  WorkerOptions options;
  PagePool pool;
  bool alive = true;
  bool draining = false;  // takes no new requests; the ones it holds finish here
  bool in_flight = false;
  uint64_t next_step_id = 1;
  uint64_t in_flight_step = 0;
  std::vector<PlannedChunk> planned;  // the step in flight
  std::vector<RequestId> running;     // admitted, in admission order
  std::vector<RequestId> waiting;     // routed here, not admitted
  int64_t steps = 0;
  int64_t last_batch_tokens = 0;
};

// State of one PlanStep call.
struct Scheduler::PlanContext {
  WorkerState& w;
  TimePoint now;
  StepBatch batch;
  int64_t budget = 0;
  std::vector<RequestId> order;             // running, highest priority first
  absl::flat_hash_set<RequestId> in_batch;  // already given a chunk
};

}  // namespace accllm::scheduler

#endif  // ACCLLM_SCHEDULER_SCHEDULER_INTERNAL_H_
