// Y = X Wᵀ for 2:4-sparse W2 weights (tiled_sparse24.h) and the A8 activations of n tokens,
// with runtime SIMD dispatch. On AVX-512 VNNI each step gathers every row's 4 activations
// (VPERMB) and multiplies only the kept weights with VPDPBUSD, the pruned half skipped.
// The zero point needs Σ(c − z)·x over each row's kept columns:
//   - fractional zeros: Σc·x and the kept activations' sum Σx, two VPDPBUSD per token;
//   - integer zeros: (x + 128) as the unsigned operand and (c − z) as the signed one, one
//     VPDPBUSD per token; the + 128 is taken off once per row (128·Σ(c − z), shared by all
//     tokens).
// Without VNNI (AVX2, gemm_a8_sparse24_avx2-inl.h) the same two forms run on VPSHUFB
// gathers and VPMADDUBSW; there the integer form takes blocks of 8 tokens, with x + 128
// made once per dispatch (BiasActivations) and Σ(c − z) made at load time.
// Bit-exact with the scalar oracle (MatVecA8) per token either way.
#ifndef ACCLLM_WORKERS_CPU_GEMM_A8_SPARSE24_H_
#define ACCLLM_WORKERS_CPU_GEMM_A8_SPARSE24_H_

#include <cstdint>
#include <span>
#include <vector>

#include "workers/cpu/prepared_a8.h"     // PreparedA8
#include "workers/cpu/thread_pool.h"     // ThreadPool
#include "workers/cpu/tiled_sparse24.h"  // TiledSparse24

namespace accllm {

// y: [x.n, w.rows]; x prepared with w.cols columns. `pool` may be null (one thread).
void GemmA8Sparse24(const TiledSparse24& w, const PreparedA8& x, float* y, ThreadPool* pool);

// x + 128 as u8 (each byte of x.x4 ^ 0x80), which the AVX2 integer-zero kernel reads, into
// `out`; left empty where w has fractional zeros, x fewer than 8 tokens, or the kernel this
// CPU runs does not read it (VNNI). Made once per
// dispatch and shared by every tile range: one copy per range took a third of a 2:4 prefill.
void BiasActivations(const TiledSparse24& w, const PreparedA8& x, std::vector<uint8_t>& out);

// Only row tiles [tile_begin, tile_end), on the calling thread. `biased`: BiasActivations'
// result for w and x (without it, every token takes the fractional form: the same bits).
void GemmA8Sparse24TileRange(const TiledSparse24& w, const PreparedA8& x,
                             std::span<const uint8_t> biased, int64_t tile_begin, int64_t tile_end,
                             float* y);

}  // namespace accllm

#endif  // ACCLLM_WORKERS_CPU_GEMM_A8_SPARSE24_H_
