// Internal invariant checks. A failed invariant is a bug in the scheduler, not
// bad input (bad input is an absl::Status), so it stops the process with the
// location rather than letting page accounting silently drift.
#ifndef ACCLLM_SCHEDULER_INVARIANT_H_
#define ACCLLM_SCHEDULER_INVARIANT_H_

namespace accllm::scheduler::internal {

[[noreturn]] void InvariantFailed(const char* condition, const char* file, int line);

}  // namespace accllm::scheduler::internal

#define ACCLLM_SCHED_INVARIANT(cond)                                                        \
  do {                                                                                      \
    if (!(cond)) ::accllm::scheduler::internal::InvariantFailed(#cond, __FILE__, __LINE__); \
  } while (false)

#endif  // ACCLLM_SCHEDULER_INVARIANT_H_
