// Runs the scheduler against synchronous workers, one round at a time: each
// live worker plans, runs and completes one step. For tests and for the
// single-process `accllm run` path; the server drives asynchronous workers
// through PlanStep/CompleteStep itself.
#ifndef ACCLLM_SCHEDULER_SYNC_DRIVER_H_
#define ACCLLM_SCHEDULER_SYNC_DRIVER_H_

#include <cstdint>     // int64_t
#include <functional>  // std::function
#include <map>         // std::map

#include "absl/status/status.h"       // absl::Status
#include "absl/status/statusor.h"     // absl::StatusOr
#include "scheduler/request_types.h"  // WorkerId
#include "scheduler/scheduler.h"      // Scheduler
#include "scheduler/worker.h"         // Worker, StepBatch

namespace accllm::scheduler {

class SyncDriver {
 public:
  explicit SyncDriver(Scheduler& scheduler) : scheduler_(scheduler) {}

  // `worker` (not owned) runs the steps of scheduler worker `id`.
  void Attach(WorkerId id, Worker* worker) { workers_[id] = worker; }

  // One round over the live attached workers, in id order. Returns the
  // number of tokens fed.
  absl::StatusOr<int64_t> RunRound();
  // Rounds until no request is left. FAILED_PRECONDITION when a round makes
  // no progress while requests remain (a stuck scheduler is a bug to report,
  // not a hang), DEADLINE_EXCEEDED after `max_rounds`.
  absl::Status RunUntilIdle(int64_t max_rounds = 10'000'000);

  // Called before every round (tests advance a fake clock here) and with
  // every non-empty batch before it is run.
  std::function<void()> before_round;
  std::function<void(const StepBatch&)> on_batch;

 private:
  Scheduler& scheduler_;
  std::map<WorkerId, Worker*> workers_;
};

}  // namespace accllm::scheduler

#endif  // ACCLLM_SCHEDULER_SYNC_DRIVER_H_
