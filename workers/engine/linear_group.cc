#include "workers/engine/linear_group.h"

#include <vector>

#include "workers/cpu/float_gemm.h"              // FloatGemm
#include "workers/cpu/gemm_group.h"              // GemmJob
#include "workers/engine/quantized_linear_a8.h"  // QuantizedLinearA8, RunGemmJobs
#include "workers/engine/weight_matrix.h"        // WeightMatrix

namespace accllm {
namespace {

// Float layers (WeightMatrix) on one pool: one FloatGemm call over all their rows. False when
// they are not all such layers.
bool ApplyFloatShared(std::span<const Linear* const> layers, const float* x, int64_t n,
                      std::span<float* const> ys) {
  std::vector<FloatGemmJob> jobs;
  const WeightMatrix* first = nullptr;
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto* m = dynamic_cast<const WeightMatrix*>(layers[i]);
    if (m == nullptr ||
        (first != nullptr && (m->cols() != first->cols() || m->pool() != first->pool()))) {
      return false;
    }
    if (first == nullptr) first = m;
    jobs.push_back(m->Job(ys[i]));
  }
  if (jobs.size() < 2) return false;
  int64_t rows = 0;
  for (const FloatGemmJob& job : jobs) rows += job.rows;
  // As WeightMatrix::ApplyBatch: a tiny group is not worth waking the other threads for.
  if (rows * first->cols() * n < WeightMatrix::kMinParallelMacs) {
    FloatGemm(jobs, x, n, first->cols(), nullptr);
    return true;
  }
  RunOnPool(first->pool(), [&](ThreadPool* pool) { FloatGemm(jobs, x, n, first->cols(), pool); });
  return true;
}

}  // namespace

void ApplyBatchShared(std::span<const Linear* const> layers, const float* x, int64_t n,
                      std::span<float* const> ys) {
  if (ApplyFloatShared(layers, x, n, ys)) return;
  std::vector<GemmJob> jobs;
  const QuantizedLinearA8* first = nullptr;
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto* a8 = dynamic_cast<const QuantizedLinearA8*>(layers[i]);
    std::optional<GemmJob> job = a8 != nullptr ? a8->Job(ys[i]) : std::nullopt;
    if (!job || (first != nullptr &&
                 (a8->cols() != first->cols() || a8->prepared_group() != first->prepared_group() ||
                  a8->pool() != first->pool()))) {
      jobs.clear();
      break;
    }
    if (first == nullptr) first = a8;
    jobs.push_back(*job);
  }
  if (jobs.size() < 2) {
    for (size_t i = 0; i < layers.size(); ++i) layers[i]->ApplyBatch(x, n, ys[i]);
    return;
  }
  RunGemmJobs(jobs, x, n, first->cols(), first->prepared_group(), first->pool());
}

}  // namespace accllm
