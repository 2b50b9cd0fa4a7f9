#include "scheduler/sync_driver.h"

#include <utility>  // std::move

#include "absl/strings/str_cat.h"  // absl::StrCat

namespace accllm::scheduler {

absl::StatusOr<int64_t> SyncDriver::RunRound() {
  if (before_round) before_round();
  int64_t fed = 0;
  for (const auto& [id, worker] : workers_) {
    if (!scheduler_.IsAlive(id)) continue;
    absl::StatusOr<StepBatch> batch = scheduler_.PlanStep(id);
    if (!batch.ok()) return batch.status();
    if (batch->empty()) continue;
    if (on_batch) on_batch(*batch);
    fed += batch->num_tokens();
    absl::Status done = scheduler_.CompleteStep(id, worker->Step(*batch));
    if (!done.ok() && done.code() != absl::StatusCode::kInternal) return done;
  }
  return fed;
}

absl::Status SyncDriver::RunUntilIdle(int64_t max_rounds) {
  for (int64_t round = 0; round < max_rounds; ++round) {
    if (!scheduler_.HasWork()) return absl::OkStatus();
    absl::StatusOr<int64_t> fed = RunRound();
    if (!fed.ok()) return fed.status();
    if (*fed == 0 && scheduler_.HasWork()) {
      // One more round: a deadline or a failure may have changed things.
      absl::StatusOr<int64_t> again = RunRound();
      if (!again.ok()) return again.status();
      if (*again == 0 && scheduler_.HasWork()) {
        const SchedulerCounters c = scheduler_.Counters();
        return absl::FailedPreconditionError(
            absl::StrCat("no progress: ", c.running, " running and ", c.waiting,
                         " waiting requests, but no worker got a batch"));
      }
    }
  }
  return absl::DeadlineExceededError(absl::StrCat("still busy after ", max_rounds, " rounds"));
}

}  // namespace accllm::scheduler
