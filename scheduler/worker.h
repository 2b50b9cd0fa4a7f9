// The contract between the scheduler and a worker for one iteration.
//
// The scheduler never calls a worker itself: Scheduler::PlanStep(worker)
// returns a StepBatch, whoever owns the worker runs it (a gRPC call, an
// in-process engine, a test fake) and reports back with
// Scheduler::CompleteStep(worker, outcome). That keeps the scheduler
// synchronous and deterministic while real workers run asynchronously.
// `Worker` is the synchronous form used by SyncDriver and tests.
#ifndef ACCLLM_SCHEDULER_WORKER_H_
#define ACCLLM_SCHEDULER_WORKER_H_

#include <cstdint>  // int32_t, int64_t, uint64_t
#include <vector>   // std::vector

#include "absl/status/statusor.h"         // absl::StatusOr
#include "scheduler/attention_spec.h"     // AttentionSpec
#include "scheduler/lambda_page_table.h"  // PageRef, PageCopy
#include "scheduler/request_types.h"      // RequestId, WorkerId, SamplingParams

namespace accllm::scheduler {

// One sequence's share of a step: feed `tokens` at positions
// [first_position, first_position + tokens.size()), writing their K/V into the
// pages of `pages`, each query reading the positions `attention` allows.
struct SequenceChunk {
  RequestId request_id = 0;
  std::vector<int32_t> tokens;
  int64_t first_position = 0;
  // Logical page → physical page, sorted by logical index; covers every
  // position the chunk writes or reads (sinks and window), nothing else.
  std::vector<PageRef> pages;
  // Copy-on-write of shared prefix pages: do these copies before any write.
  std::vector<PageCopy> page_copies;
  AttentionSpec attention;
  int32_t page_size = 16;
  // Sample one token after the last fed one (the end of a prompt or a decode).
  bool sample = false;
  SamplingParams sampling;
  // Position the sampled token will occupy (= first_position + tokens.size()).
  // A worker seeds its RNG from (sampling.seed, sample_position), so a
  // sequence recomputed on another worker samples the same tokens.
  int64_t sample_position = 0;
};

struct StepBatch {
  WorkerId worker = 0;
  uint64_t step_id = 0;  // increases per worker; echoed in StepOutput
  std::vector<SequenceChunk> chunks;

  bool empty() const { return chunks.empty(); }
  int64_t num_tokens() const {
    int64_t n = 0;
    for (const SequenceChunk& c : chunks) n += static_cast<int64_t>(c.tokens.size());
    return n;
  }
};

struct SampledToken {
  RequestId request_id = 0;
  int32_t token = 0;
};

// One token per chunk that asked for one, in chunk order.
struct StepOutput {
  uint64_t step_id = 0;
  std::vector<SampledToken> tokens;
};

// A worker that runs a step to completion before returning. An error means
// the worker is gone (its KV cache with it); the scheduler recomputes its
// sequences elsewhere.
class Worker {
 public:
  virtual ~Worker() = default;
  virtual absl::StatusOr<StepOutput> Step(const StepBatch& batch) = 0;
};

}  // namespace accllm::scheduler

#endif  // ACCLLM_SCHEDULER_WORKER_H_
