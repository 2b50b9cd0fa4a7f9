// Several W×A8 layers that read the same activations (q/k/v, gate/up) as one dispatch
// of the kernel threads: their row tiles are one range that ForEachTile splits, so a
// decode step waits for the threads once per group instead of once per layer.
#ifndef ACCLLM_WORKERS_CPU_GEMM_GROUP_H_
#define ACCLLM_WORKERS_CPU_GEMM_GROUP_H_

#include <cstdint>
#include <span>

#include "workers/cpu/prepared_a8.h"     // PreparedA8
#include "workers/cpu/thread_pool.h"     // ThreadPool
#include "workers/cpu/tiled_linear.h"    // TiledLinear
#include "workers/cpu/tiled_sparse24.h"  // TiledSparse24

namespace accllm {

// One layer of a group: dense or 2:4 tiles (exactly one set) and its output [x.n, rows].
struct GemmJob {
  const TiledLinear* dense = nullptr;
  const TiledSparse24* sparse = nullptr;
  float* y = nullptr;

  int64_t tiles() const { return dense != nullptr ? dense->tiles : sparse->tiles; }
};

// Every job's y = x Wᵀ; x prepared for the jobs' common column count and group size.
void GemmA8Group(std::span<const GemmJob> jobs, const PreparedA8& x, ThreadPool* pool);

}  // namespace accllm

#endif  // ACCLLM_WORKERS_CPU_GEMM_GROUP_H_
