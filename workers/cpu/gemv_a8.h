// y = W x for a tiled quantized W and A8 activations, with runtime SIMD
// dispatch (Highway picks the best target this CPU has). Bit-exact with the
// scalar oracle (quant/reference_matvec.h) in the integer dot products, and the
// float group terms are formed in the same order, so results match it exactly.
#ifndef ACCLLM_WORKERS_CPU_GEMV_A8_H_
#define ACCLLM_WORKERS_CPU_GEMV_A8_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "quant/a8.h"                    // A8Vector
#include "workers/cpu/thread_pool.h"     // ThreadPool
#include "workers/cpu/tiled_linear.h"    // TiledLinear

namespace accllm {

// One token's activations, prepared once and shared by every layer that reads
// the same input (q/k/v, gate/up).
struct PreparedA8 {
  float scale = 0.0f;
  std::vector<int32_t> x4;          // [chunks · 4]: 4 int8 values per 4-column step, zero padded
  std::vector<float> group_sums;    // [groups]: Σ x over each group (an exact integer)
};
PreparedA8 PrepareA8(const A8Vector& x, int64_t cols, int64_t group);

// y: [rows]. `pool` may be null (single thread); work splits by tiles of 16 rows.
void GemvA8(const TiledLinear& w, const PreparedA8& x, std::span<float> y, ThreadPool* pool);

// The SIMD target the dispatcher chose on this CPU ("AVX3_DL", "AVX2", ...).
std::string GemvTargetName();

}  // namespace accllm

#endif  // ACCLLM_WORKERS_CPU_GEMV_A8_H_
