// The W2/W4 × A8 tile kernel for x86 without VNNI (AVX2, and AVX-512 without VNNI), group
// size 64 — the dense counterpart of gemm_a8.cc's VPDPBUSD kernel, bit-exact with the
// scalar oracle like it. Per 4-column step VPMADDUBSW forms u8 code × s8 activation pairs
// in i16; the pairs are summed in i16 across steps (no VPMADDWD per step: it is the one
// extra uop that made a step cost twice VNNI's) and widened to i32 once per group (W2) or
// half group (W4). Bounds: a W2 pair is at most 2·3·127 = 762, 16 steps 12192; a W4 pair
// 2·15·127 = 3810, 8 steps 30480; both below 2^15. Re-included per SIMD target.

// Per-target include guard (toggled by foreach_target).
#if defined(ACCLLM_WORKERS_CPU_GEMM_A8_AVX2_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef ACCLLM_WORKERS_CPU_GEMM_A8_AVX2_INL_H_
#undef ACCLLM_WORKERS_CPU_GEMM_A8_AVX2_INL_H_
#else
#define ACCLLM_WORKERS_CPU_GEMM_A8_AVX2_INL_H_
#endif

#include <cstdint>

#include "hwy/highway.h"               // HWY_TARGET, HWY_INLINE
#include "workers/cpu/tiled_linear.h"  // PrefetchTileGroupAhead

#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3
#include <immintrin.h>
#define ACCLLM_GEMM_AVX2_TILES 1
#else
#define ACCLLM_GEMM_AVX2_TILES 0
#endif

HWY_BEFORE_NAMESPACE();
namespace accllm {
namespace HWY_NAMESPACE {

#if ACCLLM_GEMM_AVX2_TILES
// 8 fp16 values (half a tile's scales or zeros) as floats.
HWY_INLINE __m256 LoadHalves8(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// acc + scale · (dot − zero · xsum), unfused, in the oracle's order (bit-exact with it).
HWY_INLINE __m256 AddGroupTerm8(__m256 acc, __m256 scale, __m256 zero, __m256i dot, __m256 xsum) {
  return _mm256_add_ps(
      acc, _mm256_mul_ps(scale, _mm256_sub_ps(_mm256_cvtepi32_ps(dot), _mm256_mul_ps(zero, xsum))));
}

// y[k · y_stride + r] = acc[k][r] · x_scale[k] for the tile's first `rows` rows (acc: kTok
// tokens × 2 halves of 8 rows).
template <int kTok>
HWY_INLINE void StoreTileRows8(const __m256 (*acc)[2], const float* x_scale, float* y,
                               int64_t y_stride, int64_t rows) {
#pragma GCC unroll 8
  for (int k = 0; k < kTok; ++k) {
    const __m256 xs = _mm256_set1_ps(x_scale[k]);
    if (rows == 16) {
      _mm256_storeu_ps(y + k * y_stride, _mm256_mul_ps(acc[k][0], xs));
      _mm256_storeu_ps(y + k * y_stride + 8, _mm256_mul_ps(acc[k][1], xs));
    } else {
      alignas(32) float lanes[16];
      _mm256_store_ps(lanes, _mm256_mul_ps(acc[k][0], xs));
      _mm256_store_ps(lanes + 8, _mm256_mul_ps(acc[k][1], xs));
      for (int64_t r = 0; r < rows; ++r) y[k * y_stride + r] = lanes[r];
    }
  }
}

// One tile (16 rows), kTok tokens (8 from two quads of PreparedA8::quad_x4, 4 from one,
// or 1): word s of group g for token k is x4[(g · 16 + s) · 4 + k] in a quad (the second
// quad quad_stride words on) and x4[g · 16 + s] for one token. The two 8-row halves of the
// tile run one after the other, so a half's codes, one i16 sum per token and the broadcast
// fit AVX2's 16 registers (both halves at once spilled); the float sums live in memory.
template <int kBits, int kTok>
void TileG64Avx2(const uint8_t* blocks, int64_t chunk_bytes, int64_t groups, const uint16_t* scales,
                 const uint16_t* zeros, const int32_t* x4, int64_t quad_stride,
                 const float* group_sums, const float* x_scale, float* y, int64_t y_stride,
                 int64_t rows) {
  static_assert(kBits == 2 || kBits == 4, "VPMADDUBSW pairs of 8-bit codes can saturate i16");
  constexpr int kPerByte = 8 / kBits;
  constexpr int kStepsPerFlush = kBits == 2 ? 16 : 8;  // i16 sums stay below 2^15
  constexpr int kQuadTok = kTok < 4 ? kTok : 4;        // tokens per interleaved word run
  const __m256i mask = _mm256_set1_epi8(static_cast<char>((1 << kBits) - 1));
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 facc[kTok][2];
#pragma GCC unroll 8
  for (int k = 0; k < kTok; ++k) facc[k][0] = facc[k][1] = _mm256_setzero_ps();
  for (int64_t g = 0; g < groups; ++g) {
    const uint8_t* chunks = blocks + g * 4 * chunk_bytes;
    PrefetchTileGroupAhead(chunks, chunk_bytes, scales, zeros, g);
    const int32_t* xg = x4 + g * 16 * kQuadTok;
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      __m256i dots[kTok], acc[kTok];
#pragma GCC unroll 8
      for (int k = 0; k < kTok; ++k) dots[k] = acc[k] = _mm256_setzero_si256();
        // The chunk loop stays rolled: fully unrolled, GCC hoisted every broadcast and product
        // of the group and spilled them (a thousand stack accesses per group).
#pragma GCC unroll 1
      for (int c = 0; c < 4; ++c) {
#pragma GCC unroll 2
        for (int q = 0; q < kBits / 2; ++q) {
          const __m256i half = _mm256_load_si256(
              reinterpret_cast<const __m256i*>(chunks + c * chunk_bytes + q * 64 + h * 32));
#pragma GCC unroll 4
          for (int j = 0; j < kPerByte; ++j) {
            const int s = c * 4 + q * kPerByte + j;
            // 16-bit shifts then a byte mask: bits shifted in from the neighbour byte are
            // masked.
            const __m256i code = _mm256_and_si256(_mm256_srli_epi16(half, kBits * j), mask);
#pragma GCC unroll 8
            for (int k = 0; k < kTok; ++k) {
              const int32_t* word = (k < 4 ? xg : xg + quad_stride) + s * kQuadTok + k % 4;
              acc[k] =
                  _mm256_add_epi16(acc[k], _mm256_maddubs_epi16(code, _mm256_set1_epi32(*word)));
              // Keeps each sum one chain in step order: GCC reassociated the integer adds
              // into trees whose partial sums no longer fit the registers.
              __asm__("" : "+x"(acc[k]));
            }
          }
        }
        // W2 sums a whole group in i16: its one widening is in the group term below, where
        // the sums are still in registers (widened here, GCC spilled and reloaded them).
        if (kBits != 2 && (c + 1) % (kStepsPerFlush / 4) == 0) {
#pragma GCC unroll 8
          for (int k = 0; k < kTok; ++k) {
            dots[k] = _mm256_add_epi32(dots[k], _mm256_madd_epi16(acc[k], ones));
            acc[k] = _mm256_setzero_si256();
          }
        }
      }
      const __m256 scale = LoadHalves8(scales + g * 16 + h * 8);
      const __m256 zero = LoadHalves8(zeros + g * 16 + h * 8);
#pragma GCC unroll 8
      for (int k = 0; k < kTok; ++k) {
        const __m256i dot = kBits == 2 ? _mm256_madd_epi16(acc[k], ones) : dots[k];
        facc[k][h] =
            AddGroupTerm8(facc[k][h], scale, zero, dot, _mm256_set1_ps(group_sums[k * groups + g]));
      }
    }
  }
  StoreTileRows8<kTok>(facc, x_scale, y, y_stride, rows);
}
#endif  // ACCLLM_GEMM_AVX2_TILES

}  // namespace HWY_NAMESPACE
}  // namespace accllm
HWY_AFTER_NAMESPACE();

#endif  // ACCLLM_WORKERS_CPU_GEMM_A8_AVX2_INL_H_
