// Runs the scheduler's steps on a backend: checks each chunk against the model and the pool,
// applies copy-on-write page copies, runs the step's chunks as one Forward, and samples one
// token per sampling chunk. Sampling lives here, once for every backend: the sampler of a
// token is seeded from (request seed, position), so a sequence recomputed on another worker
// (CPU or FPGA) samples the same tokens. accllm-worker serves the same steps over gRPC.
#ifndef ACCLLM_WORKERS_BACKEND_BACKEND_WORKER_H_
#define ACCLLM_WORKERS_BACKEND_BACKEND_WORKER_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"       // absl::StatusOr
#include "scheduler/worker.h"           // Worker, StepBatch, StepOutput
#include "workers/backend/backend.h"    // BackendModel

namespace accllm {

class BackendWorker : public scheduler::Worker {
 public:
  explicit BackendWorker(std::shared_ptr<BackendModel> model);

  absl::StatusOr<scheduler::StepOutput> Step(const scheduler::StepBatch& batch) override;

  BackendModel& model() { return *model_; }
  int32_t num_pages() const { return model_->num_pages(); }
  int32_t page_size() const { return model_->page_size(); }

 private:
  // Page size, page copies (performed), token ids and page coverage of one chunk.
  absl::Status PrepareChunk(const scheduler::SequenceChunk& chunk);

  std::shared_ptr<BackendModel> model_;
};

// The seed of the sampler for the token at `position` of a request seeded `seed`.
uint64_t TokenSeed(uint64_t seed, int64_t position);

}  // namespace accllm

#endif  // ACCLLM_WORKERS_BACKEND_BACKEND_WORKER_H_
