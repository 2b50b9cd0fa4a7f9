// y = W x for unquantized weights (F32, F16 or BF16, row-major, read in place) and float
// activations, for one token (decode) or n tokens at once (prefill: each row tile of W is read
// from memory once for all n tokens, tiled over tokens so the multiplies, not the loads, bound
// it). Runtime SIMD dispatch (Highway); 16-bit weights are widened exactly to float (F16C /
// shifts) and multiplied with float x, so the products are those of the float reference.
#ifndef ACCLLM_WORKERS_CPU_FLOAT_GEMM_H_
#define ACCLLM_WORKERS_CPU_FLOAT_GEMM_H_

#include <cstdint>
#include <span>

#include "workers/cpu/thread_pool.h"  // ThreadPool

namespace accllm {

enum class FloatWeightType : uint8_t { kF32, kF16, kBF16 };

// One matrix of a call: W [rows, cols] (the call's cols) and its output y [n, rows].
struct FloatGemmJob {
  FloatWeightType type = FloatWeightType::kF32;
  const void* w = nullptr;  // F32: 4-byte aligned; F16/BF16: 2-byte aligned
  int64_t rows = 0;
  float* y = nullptr;
};

// For every job: y[t, r] = Σ_c W[r, c] · x[t, c] for t < n, x: [n, cols]. The jobs (e.g.
// q/k/v, which read the same x) share one split of their rows over `pool` (null: this thread).
// Every output is accumulated lane-wise over c in order and then reduced in a fixed lane
// order, so it has the same bits whatever n, the thread split or the other jobs are (on one
// SIMD target): row t of a batch equals the single-token call on x_t.
void FloatGemm(std::span<const FloatGemmJob> jobs, const float* x, int64_t n, int64_t cols,
               ThreadPool* pool);

}  // namespace accllm

#endif  // ACCLLM_WORKERS_CPU_FLOAT_GEMM_H_
