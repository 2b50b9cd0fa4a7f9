// Activations of n tokens in the form the tiled W×A8 kernels read: per token the
// A8 values (quant/a8.h) packed 4 to an int32 word (the 4 columns one u8×s8 dot
// step consumes), zero padded to whole 16-column chunks, the per-group sums of
// the int8 values (the zero-point correction) and the A8 scale. Prepared once
// per token and shared by every layer that reads the same input (q/k/v, gate/up).
#ifndef ACCLLM_WORKERS_CPU_PREPARED_A8_H_
#define ACCLLM_WORKERS_CPU_PREPARED_A8_H_

#include <cstdint>
#include <span>
#include <vector>

#include "quant/a8.h"                       // A8Vector
#include "workers/cpu/aligned_allocator.h"  // AlignedVector
#include "workers/cpu/thread_pool.h"        // ThreadPool

namespace accllm {

struct PreparedA8 {
  int64_t n = 0;                  // tokens
  int64_t chunks = 0;             // ceil(cols / 16)
  int64_t groups = 0;             // ceil(cols / group)
  std::vector<float> scale;       // [n]: x ≈ scale · values
  AlignedVector<int32_t> x4;      // [n, chunks · 4]: 4 int8 values per word, zero padded
  std::vector<float> group_sums;  // [n, groups]: Σ x over each group (an exact integer)
  // The same words for each whole block of 4 tokens, interleaved: [n / 4, chunks · 4, 4].
  // A kernel that forms 4 tokens' dots at once then finds each word of the 4 at a constant
  // offset from one pointer (with x4's stride, the compiler spilled 64 addresses).
  AlignedVector<int32_t> quad_x4;

  const int32_t* token_x4(int64_t i) const { return x4.data() + i * chunks * 4; }
  // The quad holding tokens [4q, 4q + 4).
  const int32_t* quad(int64_t q) const { return quad_x4.data() + q * chunks * 16; }
};

// One token.
PreparedA8 PrepareA8(const A8Vector& x, int64_t cols, int64_t group);
// x: [n, cols] floats, each row quantized with QuantizeA8 (the same int8 values).
PreparedA8 QuantizePrepareA8(const float* x, int64_t n, int64_t cols, int64_t group);
// The same into `out`, reusing its buffers (a prefill chunk's are megabytes: allocating them
// per layer cost page faults and unmaps).
// `pool` (may be null) splits a prefill chunk's tokens.
void QuantizePrepareA8(const float* x, int64_t n, int64_t cols, int64_t group, PreparedA8& out,
                       ThreadPool* pool = nullptr);

}  // namespace accllm

#endif  // ACCLLM_WORKERS_CPU_PREPARED_A8_H_
