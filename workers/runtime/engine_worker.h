// A worker that runs the scheduler's steps on the engine in this process: it
// owns the KV page pool's storage (float or quantized, per the model), applies copy-on-write page copies, feeds each
// chunk through the decoder over exactly the pages the scheduler gave it, and
// samples on the worker side (logits never leave it). The sampler of a token is
// seeded from (request seed, position), so a sequence recomputed on another
// worker samples the same tokens. The accllm-worker process serves the same
// steps over gRPC.
#ifndef ACCLLM_WORKERS_RUNTIME_ENGINE_WORKER_H_
#define ACCLLM_WORKERS_RUNTIME_ENGINE_WORKER_H_

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"        // absl::StatusOr
#include "scheduler/scheduler.h"         // ModelLimits
#include "scheduler/worker.h"            // Worker, StepBatch, StepOutput
#include "workers/engine/llama_model.h"  // LlamaModel
#include "workers/engine/kv_factory.h"   // KvPagePool

namespace accllm {

class EngineWorker : public scheduler::Worker {
 public:
  EngineWorker(std::shared_ptr<const LlamaModel> model, int32_t num_pages, int32_t page_size);

  absl::StatusOr<scheduler::StepOutput> Step(const scheduler::StepBatch& batch) override;

  int32_t num_pages() const { return pool_->num_pages(); }
  int32_t page_size() const { return pool_->page_size(); }

 private:
  // Checks the page size and performs the chunk's copy-on-write page copies.
  absl::Status PrepareChunk(const scheduler::SequenceChunk& chunk);

  std::shared_ptr<const LlamaModel> model_;
  std::unique_ptr<KvPagePool> pool_;  // float or KV4/KV8 pages, as the model says
};

// What a model allows requests to ask for, from its config: the vocabulary,
// the dense context (the trained context) and the default Λ window.
scheduler::ModelLimits LimitsFor(const ModelConfig& config);

// The seed of the sampler for the token at `position` of a request seeded `seed`.
uint64_t TokenSeed(uint64_t seed, int64_t position);

}  // namespace accllm

#endif  // ACCLLM_WORKERS_RUNTIME_ENGINE_WORKER_H_
