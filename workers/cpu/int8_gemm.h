// Exact int32 dot products of an int8 matrix (the 8-bit LM head: symmetric int8
// rows, int8_row_matrix.h) with the int8 activations of n tokens, with runtime
// SIMD dispatch. The matrix is re-tiled at load time: 16 rows per tile, each
// 64-byte block holding 16 rows × 4 consecutive columns (byte 4r + i = row r,
// column 4k + i), the order a u8×s8→i32 dot (VPDPBUSD) consumes. VPDPBUSD wants
// one unsigned operand, so the activations are biased by +128 (x ^ 0x80) and
// 128 · Σ_c w[r, c] is taken back off: the integers are exact on every target. Without
// VNNI (AVX2) the signs of w move onto x instead, which needs |x| ≤ 127 (A8's range).
#ifndef ACCLLM_WORKERS_CPU_INT8_GEMM_H_
#define ACCLLM_WORKERS_CPU_INT8_GEMM_H_

#include <cstdint>
#include <vector>

#include "workers/cpu/aligned_allocator.h"  // AlignedVector
#include "workers/cpu/thread_pool.h"        // ThreadPool

namespace accllm {

struct TiledInt8 {
  int64_t rows = 0, cols = 0;
  int64_t tiles = 0;              // ceil(rows / 16)
  int64_t steps = 0;              // ceil(cols / 4): 4-column steps, the last zero padded
  AlignedVector<int8_t> blocks;   // [tiles, steps, 16, 4]
  std::vector<int32_t> row_sums;  // [tiles · 16]: Σ_c w[r, c] (0 for padding rows)

  // Where w[r, c] is in `blocks`.
  int64_t index(int64_t r, int64_t c) const {
    return ((r / 16) * steps + c / 4) * 64 + (r % 16) * 4 + c % 4;
  }
};

// q: [rows, cols] row-major.
TiledInt8 TileInt8(const int8_t* q, int64_t rows, int64_t cols);

// dots[i, r] = Σ_c w[r, c] · x[i, c] for n tokens; x rows are `x_stride` ≥ 4 · steps bytes
// apart, zero past cols, each in [-127, 127]. dots: [n, rows]. `pool` may be null;
// threads split the row tiles.
void Int8Gemm(const TiledInt8& w, const int8_t* x, int64_t x_stride, int64_t n, int32_t* dots,
              ThreadPool* pool);

}  // namespace accllm

#endif  // ACCLLM_WORKERS_CPU_INT8_GEMM_H_
