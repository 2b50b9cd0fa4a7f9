// The CPU backend: the engine's forward pass over the SIMD kernels and a thread pool, with
// the KV page pool (float or KV4/KV8, as the model says) in host memory. Its name carries
// the SIMD target the kernels dispatch to ("cpu/AVX2").
#ifndef ACCLLM_WORKERS_ENGINE_CPU_BACKEND_H_
#define ACCLLM_WORKERS_ENGINE_CPU_BACKEND_H_

#include <memory>
#include <string>

#include "workers/backend/backend.h"  // Backend, BackendModel

namespace accllm {

class LlamaModel;

class CpuBackend : public Backend {
 public:
  std::string name() const override;
  absl::StatusOr<std::unique_ptr<BackendModel>> Load(const ModelDir& dir,
                                                     const BackendLoadOptions& options) override;
  // An already loaded model (tests, eval) with a pool of `num_pages` × `page_size`.
  static std::unique_ptr<BackendModel> Wrap(std::shared_ptr<const LlamaModel> model,
                                            int32_t num_pages, int32_t page_size);
};

// "cpu/<SIMD target>" for the kernels this machine dispatches to.
std::string CpuBackendName();

}  // namespace accllm

#endif  // ACCLLM_WORKERS_ENGINE_CPU_BACKEND_H_
