// Y = X Wᵀ for a tiled quantized W (tiled_linear.h) and the A8 activations of n
// tokens (prepared_a8.h), with runtime SIMD dispatch (Highway picks the best
// target this CPU has; on AVX-512 VNNI the u8×s8 dots are VPDPBUSD). Each tile of
// 16 rows is read once per block of up to 16 tokens, so a prefill chunk or a
// decode batch streams the weights once. Bit-exact with the scalar oracle
// (quant/reference_matvec.h) for every token: the integer dots are exact and the
// float group terms are formed in the oracle's order.
#ifndef ACCLLM_WORKERS_CPU_GEMM_A8_H_
#define ACCLLM_WORKERS_CPU_GEMM_A8_H_

#include <cstdint>
#include <span>
#include <string>

#include "workers/cpu/prepared_a8.h"   // PreparedA8
#include "workers/cpu/thread_pool.h"   // ThreadPool
#include "workers/cpu/tiled_linear.h"  // TiledLinear

namespace accllm {

// y: [x.n, w.rows]. `pool` may be null (one thread); threads split the row tiles.
void GemmA8(const TiledLinear& w, const PreparedA8& x, float* y, ThreadPool* pool);

// Only row tiles [tile_begin, tile_end) of y, on the calling thread (gemm_group.h runs
// several layers' tiles in one dispatch).
void GemmA8TileRange(const TiledLinear& w, const PreparedA8& x, int64_t tile_begin,
                     int64_t tile_end, float* y);

// One token (x.n == 1): y [rows].
inline void GemvA8(const TiledLinear& w, const PreparedA8& x, std::span<float> y,
                   ThreadPool* pool) {
  GemmA8(w, x, y.data(), pool);
}

// The SIMD target the dispatcher chose on this CPU ("AVX3_DL", "AVX2", ...).
std::string GemvTargetName();

}  // namespace accllm

#endif  // ACCLLM_WORKERS_CPU_GEMM_A8_H_
