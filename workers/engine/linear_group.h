// Layers that read the same input (q/k/v of attention, gate/up of the MLP), applied
// together: when all of them run the tiled A8 kernels, the input is quantized once and
// their row tiles share one dispatch of the kernel threads (workers/cpu/gemm_group.h),
// which a decode step of ~150 small GEMVs feels; float layers likewise share one dispatch of
// the float kernel (workers/cpu/float_gemm.h). Bit-identical to each layer's ApplyBatch.
#ifndef ACCLLM_WORKERS_ENGINE_LINEAR_GROUP_H_
#define ACCLLM_WORKERS_ENGINE_LINEAR_GROUP_H_

#include <cstdint>
#include <span>

#include "workers/engine/linear.h"  // Linear

namespace accllm {

// ys[i] = layers[i](x) for x [n, cols] (every layer has the same cols); ys[i]: [n, rows_i].
void ApplyBatchShared(std::span<const Linear* const> layers, const float* x, int64_t n,
                      std::span<float* const> ys);

}  // namespace accllm

#endif  // ACCLLM_WORKERS_ENGINE_LINEAR_GROUP_H_
