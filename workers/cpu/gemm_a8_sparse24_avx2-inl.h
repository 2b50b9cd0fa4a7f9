// The 2:4 W2 × A8 tile kernel for x86 without VNNI (AVX2, and AVX-512 without VNNI): the
// counterpart of gemm_a8_sparse24.cc's VPDPBUSD kernel, bit-exact with the scalar oracle
// like it. Rows 0..7 and 8..15 of a tile are the two 32-byte halves of each 64-byte block.
// Per step (8 input columns, 4 kept per row) the step's 8 activations are broadcast to
// every 128-bit lane and VPSHUFB gathers each row's 4 (the indices stay in-lane), then
// VPMADDUBSW forms the products in i16, summed across the group's 8 steps in i16 and
// widened once per group. Bounds (|x| ≤ 127): fractional zeros, c·x pairs ≤ 762 and x
// pairs ≤ 254; integer zeros, (x + 128)·(c − z) pairs ≤ 1530; 8 steps stay below 2^15.
// Re-included per SIMD target.

// Per-target include guard (toggled by foreach_target).
#if defined(ACCLLM_WORKERS_CPU_GEMM_A8_SPARSE24_AVX2_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef ACCLLM_WORKERS_CPU_GEMM_A8_SPARSE24_AVX2_INL_H_
#undef ACCLLM_WORKERS_CPU_GEMM_A8_SPARSE24_AVX2_INL_H_
#else
#define ACCLLM_WORKERS_CPU_GEMM_A8_SPARSE24_AVX2_INL_H_
#endif

#include <cstdint>
#include <cstring>

#include "hwy/highway.h"                   // HWY_TARGET, HWY_INLINE
#include "workers/cpu/gemm_a8_avx2-inl.h"  // LoadHalves8, AddGroupTerm8, StoreTileRows8
#include "workers/cpu/tiled_sparse24.h"    // PrefetchSparse24GroupAhead

HWY_BEFORE_NAMESPACE();
namespace accllm {
namespace HWY_NAMESPACE {

#if ACCLLM_GEMM_AVX2_TILES
// The 8 bytes at p in every qword (a load-port broadcast, VPBROADCASTQ from memory).
HWY_INLINE __m256i Broadcast8(const uint8_t* p) {
  int64_t v;
  std::memcpy(&v, p, 8);
  return _mm256_set1_epi64x(v);
}

// One tile, kTok tokens of x (rows x_stride bytes apart: raw int8 for fractional zeros,
// x + 128 as u8 for kIntZero). Each step's codes and gather indices are unpacked once for
// all tokens.
// Rows 8h .. 8h + 7's integer zeros of one group, unpacked from their 2 bits (Sparse24Zeros).
HWY_INLINE __m256i ZeroCodes8(uint32_t word, int h) {
  const __m256i shifts = _mm256_add_epi32(_mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14),
                                          _mm256_set1_epi32(16 * h));
  return _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(word)), shifts),
                          _mm256_set1_epi32(3));
}

template <int kTok, bool kIntZero>
void TileS24Avx2(const uint8_t* codes, const uint8_t* positions, int64_t groups,
                 const uint16_t* scales, const Sparse24Zeros zeros, const int16_t* code_zero_sums,
                 const uint8_t* x, int64_t x_stride, const float* x_scale, float* y,
                 int64_t y_stride, int64_t rows) {
  const __m256i three = _mm256_set1_epi8(3);
  const __m256i ones8 = _mm256_set1_epi8(1);
  const __m256i ones16 = _mm256_set1_epi16(1);
  // Byte 4r + i of a step gathers from block i / 2 of the step's 8 columns.
  const __m256i half_base = _mm256_set1_epi32(0x04040000);
  __m256 facc[kTok][2];
#pragma GCC unroll 8
  for (int k = 0; k < kTok; ++k) facc[k][0] = facc[k][1] = _mm256_setzero_ps();
  for (int64_t g = 0; g < groups; ++g) {
    PrefetchSparse24GroupAhead(codes, positions, scales, zeros, g);
    // The two 8-row halves one after the other: a half's codes, indices and one sum per
    // token fit the 16 registers for 8 tokens (both halves at once did not for 4).
#pragma GCC unroll 2
    for (int h = 0; h < 2; ++h) {
      const __m256 scale = LoadHalves8(scales + g * 16 + h * 8);
      const __m256i zero_ints =
          zeros.halves == nullptr ? ZeroCodes8(zeros.codes[g], h) : _mm256_setzero_si256();
      const __m256 zero = zeros.halves == nullptr ? _mm256_cvtepi32_ps(zero_ints)
                                                  : LoadHalves8(zeros.halves + g * 16 + h * 8);
      // Integer zeros: row r's zero in each of its 4 bytes.
      const __m256i zero_bytes =
          kIntZero ? _mm256_mullo_epi32(zero_ints, _mm256_set1_epi32(0x01010101))
                   : _mm256_setzero_si256();
      __m256i dot[kTok], xsum[kTok];
#pragma GCC unroll 8
      for (int k = 0; k < kTok; ++k) dot[k] = xsum[k] = _mm256_setzero_si256();
#pragma GCC unroll 1
      for (int q = 0; q < 2; ++q) {
        const __m256i cb =
            _mm256_load_si256(reinterpret_cast<const __m256i*>(codes + g * 128 + q * 64 + h * 32));
        const __m256i pb = _mm256_load_si256(
            reinterpret_cast<const __m256i*>(positions + g * 128 + q * 64 + h * 32));
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) {
          const int64_t m = 4 * q + j;
          __m256i c = _mm256_and_si256(_mm256_srli_epi16(cb, 2 * j), three);
          const __m256i idx =
              _mm256_add_epi8(_mm256_and_si256(_mm256_srli_epi16(pb, 2 * j), three), half_base);
          if (kIntZero) {
            c = _mm256_sub_epi8(c, zero_bytes);  // c − z in -3 .. 3
          }
#pragma GCC unroll 8
          for (int k = 0; k < kTok; ++k) {
            const __m256i gx =
                _mm256_shuffle_epi8(Broadcast8(x + k * x_stride + g * 64 + 8 * m), idx);
            if (kIntZero) {
              dot[k] = _mm256_add_epi16(dot[k], _mm256_maddubs_epi16(gx, c));
            } else {
              dot[k] = _mm256_add_epi16(dot[k], _mm256_maddubs_epi16(c, gx));
              xsum[k] = _mm256_add_epi16(xsum[k], _mm256_maddubs_epi16(ones8, gx));
              __asm__("" : "+x"(xsum[k]));
            }
            // One chain per sum in step order (see gemm_a8_avx2-inl.h: GCC's reassociated
            // trees spilled).
            __asm__("" : "+x"(dot[k]));
          }
        }
      }
      // Integer zeros: Σ(c − z)(x + 128) − 128·Σ(c − z) = Σ(c − z)·x, the oracle's
      // dot − z·xsum exactly (integers below 2^24, so its float arithmetic is exact too).
      const __m256i offset =
          kIntZero ? _mm256_slli_epi32(
                         _mm256_cvtepi16_epi32(_mm_loadu_si128(
                             reinterpret_cast<const __m128i*>(code_zero_sums + g * 16 + h * 8))),
                         7)
                   : _mm256_setzero_si256();
#pragma GCC unroll 8
      for (int k = 0; k < kTok; ++k) {
        const __m256i d = _mm256_madd_epi16(dot[k], ones16);
        if (kIntZero) {
          facc[k][h] = _mm256_add_ps(
              facc[k][h], _mm256_mul_ps(scale, _mm256_cvtepi32_ps(_mm256_sub_epi32(d, offset))));
        } else {
          // xsum: over each row's kept columns (the oracle's).
          facc[k][h] = AddGroupTerm8(facc[k][h], scale, zero, d,
                                     _mm256_cvtepi32_ps(_mm256_madd_epi16(xsum[k], ones16)));
        }
      }
    }
  }
  StoreTileRows8<kTok>(facc, x_scale, y, y_stride, rows);
}
#endif  // ACCLLM_GEMM_AVX2_TILES

}  // namespace HWY_NAMESPACE
}  // namespace accllm
HWY_AFTER_NAMESPACE();

#endif  // ACCLLM_WORKERS_CPU_GEMM_A8_SPARSE24_AVX2_INL_H_
