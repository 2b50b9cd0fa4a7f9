// Compiled once per SIMD target by Highway (foreach_target re-includes this file).
#include "workers/cpu/gemm_a8_sparse24.h"

#include <algorithm>
#include <cstring>
#include <vector>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "workers/cpu/gemm_a8_sparse24.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"         // HWY_EXPORT, HWY_DYNAMIC_DISPATCH
// After highway.h, so it is re-included per target like this file.
#include "model/dtype.h"                            // HalfToFloat
#include "workers/cpu/gemm_a8_sparse24_avx2-inl.h"  // TileS24Avx2
#include "workers/cpu/gemm_group.h"                 // GemmA8Group
#include "workers/cpu/vnni_tile-inl.h"              // LoadHalves16, AddGroupTerm, StoreTileRows

#undef ACCLLM_S24_VNNI
#if HWY_TARGET == HWY_AVX3_DL
#include <immintrin.h>
#define ACCLLM_S24_VNNI 1
#else
#define ACCLLM_S24_VNNI 0
#endif

HWY_BEFORE_NAMESPACE();
namespace accllm {
namespace HWY_NAMESPACE {

#if ACCLLM_S24_VNNI
// Highway 1.0.3's AVX3_DL target string lacks avx512vnni (see gemm_a8.cc); it has avx512vbmi.
#define ACCLLM_S24_ATTR __attribute__((target(HWY_TARGET_STR ",avx512vnni")))

// The 8 bytes at p in every qword, as a load (GCC turns a plain broadcast of stored data
// into register shuffles, which compete with VPSHUFB).
ACCLLM_S24_ATTR HWY_INLINE __m512i BroadcastLoad8(const uint8_t* p) {
  __m512i r;
  __asm__("vpbroadcastq %1, %0" : "=v"(r) : "m"(*reinterpret_cast<const int64_t*>(p)));
  return r;
}

// The 16 rows' integer zeros of one group, unpacked from their 2 bits (Sparse24Zeros).
ACCLLM_S24_ATTR HWY_INLINE __m512i ZeroCodes16(uint32_t word) {
  const __m512i shifts =
      _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  return _mm512_and_si512(_mm512_srlv_epi32(_mm512_set1_epi32(static_cast<int>(word)), shifts),
                          _mm512_set1_epi32(3));
}

// One tile, kTok tokens (8, 4 or 1): per group the 64 activations of each token sit in one
// register; per step the codes and gather indices are unpacked once for all tokens.
// kIntZero: integer zeros (see gemm_a8_sparse24.h), one VPDPBUSD per token and step.
template <int kTok, bool kIntZero>
ACCLLM_S24_ATTR void TileVnni(const uint8_t* codes, const uint8_t* positions, int64_t groups,
                              const uint16_t* scales, const Sparse24Zeros zeros, const int8_t* x,
                              int64_t x_stride, const float* x_scale, float* y, int64_t y_stride,
                              int64_t rows) {
  const __m512i three = _mm512_set1_epi8(3);
  const __m512i ones = _mm512_set1_epi8(1);
  const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));  // x ^ 0x80 = x + 128 as u8
  // Byte 4r + i of a step gathers from block i / 2 of the step's 8 columns.
  const __m512i half_base = _mm512_set1_epi32(0x04040000);
  __m512 facc[kTok];
#pragma GCC unroll 8
  for (int k = 0; k < kTok; ++k) facc[k] = _mm512_setzero_ps();
  for (int64_t g = 0; g < groups; ++g) {
    PrefetchSparse24GroupAhead(codes, positions, scales, zeros, g);
    const __m512 scale = LoadHalves16(scales + g * 16);
    const __m512i zero_ints =
        zeros.halves == nullptr ? ZeroCodes16(zeros.codes[g]) : _mm512_setzero_si512();
    const __m512 zero = zeros.halves == nullptr ? _mm512_cvtepi32_ps(zero_ints)
                                                : LoadHalves16(zeros.halves + g * 16);
    // Integer zeros: row r's zero in each of its 4 bytes (byte 4r + i), to subtract from codes.
    const __m512i zero_bytes =
        kIntZero ? _mm512_mullo_epi32(zero_ints, _mm512_set1_epi32(0x01010101))
                 : _mm512_setzero_si512();
    __m512i xw[kTok], dot[kTok], xsum[kTok];
    __m512i code_sum = _mm512_setzero_si512();  // integer zeros: Σ(c − z) per row
    // Integer zeros: the group's x + 128 of each token, read back 8 columns at a time.
    alignas(64) uint8_t xbiased[kIntZero ? kTok : 1][64];
#pragma GCC unroll 8
    for (int k = 0; k < kTok; ++k) {
      xw[k] = _mm512_loadu_si512(x + k * x_stride + g * 64);
      if (kIntZero) _mm512_store_si512(xbiased[k], _mm512_xor_si512(xw[k], bias));
      dot[k] = _mm512_setzero_si512();
      xsum[k] = _mm512_setzero_si512();
    }
#pragma GCC unroll 2
    for (int q = 0; q < 2; ++q) {
      const __m512i cb = _mm512_load_si512(codes + g * 128 + q * 64);
      const __m512i pb = _mm512_load_si512(positions + g * 128 + q * 64);
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) {
        const int m = 4 * q + j;
        const __m512i c = _mm512_and_si512(_mm512_srli_epi16(cb, 2 * j), three);
        // Each byte's column inside the step's 8.
        const __m512i step_idx =
            _mm512_add_epi8(_mm512_and_si512(_mm512_srli_epi16(pb, 2 * j), three), half_base);
        if (kIntZero) {
          const __m512i cz = _mm512_sub_epi8(c, zero_bytes);  // in -3 .. 3
          code_sum = _mm512_dpbusd_epi32(code_sum, ones, cz);
          // The step's 8 columns in every 128-bit lane (a broadcast load), so the in-lane
          // VPSHUFB gathers each row's 4: measured a little faster than VPERMB here.
#pragma GCC unroll 8
          for (int k = 0; k < kTok; ++k) {
            const __m512i gx = _mm512_shuffle_epi8(BroadcastLoad8(xbiased[k] + 8 * m), step_idx);
            dot[k] = _mm512_dpbusd_epi32(dot[k], gx, cz);
          }
        } else {
          const __m512i idx = _mm512_add_epi8(step_idx, _mm512_set1_epi8(8 * m));  // in the 64
#pragma GCC unroll 8
          for (int k = 0; k < kTok; ++k) {
            const __m512i gx = _mm512_permutexvar_epi8(idx, xw[k]);
            dot[k] = _mm512_dpbusd_epi32(dot[k], c, gx);
            xsum[k] = _mm512_dpbusd_epi32(xsum[k], ones, gx);
          }
        }
      }
    }
    if (kIntZero) {
      // dot = Σ(c − z)(x + 128) − 128·Σ(c − z) = Σ(c − z)·x, the oracle's dot − z·xsum exactly
      // (every term is an integer below 2^24, so the oracle's float arithmetic is exact too).
      const __m512i offset = _mm512_slli_epi32(code_sum, 7);
#pragma GCC unroll 8
      for (int k = 0; k < kTok; ++k) {
        facc[k] = _mm512_add_ps(
            facc[k], _mm512_mul_ps(scale, _mm512_cvtepi32_ps(_mm512_sub_epi32(dot[k], offset))));
      }
    } else {
#pragma GCC unroll 8
      for (int k = 0; k < kTok; ++k) {
        // xsum: over each row's kept columns (the oracle's).
        facc[k] = AddGroupTerm(facc[k], scale, zero, _mm512_cvtepi32_ps(dot[k]),
                               _mm512_cvtepi32_ps(xsum[k]));
      }
    }
  }
  StoreTileRows<kTok>(facc, x_scale, y, y_stride, rows);
}

// Every token of one tile through the kernel of its zero-point kind.
template <bool kIntZero>
void TileAllTokens(const uint8_t* codes, const uint8_t* positions, int64_t groups,
                   const uint16_t* scales, const Sparse24Zeros zeros, const int8_t* xb,
                   int64_t x_stride, const float* x_scale, int64_t n, float* y, int64_t y_stride,
                   int64_t rows) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {  // the steps' codes and indices unpacked for 8 tokens
    TileVnni<8, kIntZero>(codes, positions, groups, scales, zeros, xb + i * x_stride, x_stride,
                          x_scale + i, y + i * y_stride, y_stride, rows);
  }
  for (; i + 4 <= n; i += 4) {
    TileVnni<4, kIntZero>(codes, positions, groups, scales, zeros, xb + i * x_stride, x_stride,
                          x_scale + i, y + i * y_stride, y_stride, rows);
  }
  for (; i < n; ++i) {
    // One token: the fractional form (exact for integer zeros too) has fewer steps' ops
    // than the integer one, whose savings need several tokens to share a step's unpacking.
    TileVnni<1, false>(codes, positions, groups, scales, zeros, xb + i * x_stride, x_stride,
                       x_scale + i, y + i * y_stride, y_stride, rows);
  }
}
#endif  // ACCLLM_S24_VNNI

#if ACCLLM_GEMM_AVX2_TILES
// Every token of one tile. With `biased` (integer zeros: x + 128, and code_zero_sums) blocks
// of 8 tokens take the integer form; the rest take the fractional one (exact for integer
// zeros too).
void TileAllTokensAvx2(const uint8_t* codes, const uint8_t* positions, int64_t groups,
                       const uint16_t* scales, const Sparse24Zeros zeros,
                       const int16_t* code_zero_sums,
                       const uint8_t* raw, const uint8_t* biased, int64_t x_stride,
                       const float* x_scale, int64_t n, float* y, int64_t y_stride, int64_t rows) {
  int64_t i = 0;
  // Integer zeros: 8 tokens share each step's unpacking where there are 8.
  for (; biased != nullptr && i + 8 <= n; i += 8) {
    TileS24Avx2<8, true>(codes, positions, groups, scales, zeros, code_zero_sums,
                         biased + i * x_stride, x_stride, x_scale + i, y + i * y_stride, y_stride,
                         rows);
  }
  // Blocks of 4 take the fractional form either way: the integer one measured slower here.
  for (; i + 4 <= n; i += 4) {
    TileS24Avx2<4, false>(codes, positions, groups, scales, zeros, nullptr, raw + i * x_stride,
                          x_stride, x_scale + i, y + i * y_stride, y_stride, rows);
  }
  for (; i < n; ++i) {
    TileS24Avx2<1, false>(codes, positions, groups, scales, zeros, nullptr, raw + i * x_stride,
                          x_stride, x_scale + i, y + i * y_stride, y_stride, rows);
  }
}
#endif  // ACCLLM_GEMM_AVX2_TILES

void Sparse24Tiles(const TiledSparse24& w, const PreparedA8& x, std::span<const uint8_t> biased,
                   int64_t tile_begin, int64_t tile_end, float* y) {
  (void)biased;                            // read by the AVX2 kernel only
  const int64_t x_stride = x.chunks * 16;  // bytes per token
  const int8_t* xb = reinterpret_cast<const int8_t*>(x.x4.data());
  for (int64_t t = tile_begin; t < tile_end; ++t) {
    const uint8_t* codes = w.codes.data() + t * w.groups * 128;
    const uint8_t* positions = w.positions.data() + t * w.groups * 128;
    const uint16_t* scales = w.scales.data() + t * w.groups * 16;
    const Sparse24Zeros zeros = Sparse24Zeros::OfTile(w, t);
    const int64_t rows = std::min<int64_t>(16, w.rows - t * 16);
    int64_t i = 0;
#if ACCLLM_S24_VNNI
    (w.integer_zeros ? TileAllTokens<true> : TileAllTokens<false>)(codes, positions, w.groups,
                                                                   scales, zeros, xb, x_stride,
                                                                   x.scale.data(), x.n, y + t * 16,
                                                                   w.rows, rows);
    i = x.n;
#elif ACCLLM_GEMM_AVX2_TILES
    const bool integer = w.integer_zeros && !biased.empty();
    TileAllTokensAvx2(codes, positions, w.groups, scales, zeros,
                      integer ? w.code_zero_sums.data() + t * w.groups * 16 : nullptr,
                      reinterpret_cast<const uint8_t*>(xb), integer ? biased.data() : nullptr,
                      x_stride, x.scale.data(), x.n, y + t * 16, w.rows, rows);
    i = x.n;
#endif
    // Any other target: the same sums in plain C.
    for (; i < x.n; ++i) {
      const int8_t* xi = xb + i * x_stride;
      float acc[16] = {};
      for (int64_t g = 0; g < w.groups; ++g) {
        int32_t dot[16] = {}, xsum[16] = {};
        for (int q = 0; q < 2; ++q) {
          for (int j = 0; j < 4; ++j) {
            const int m = 4 * q + j;
            for (int r = 0; r < 16; ++r) {
              for (int k = 0; k < 4; ++k) {
                const size_t byte = g * 128 + q * 64 + r * 4 + k;
                const int code = (codes[byte] >> (2 * j)) & 3;
                const int pos = (positions[byte] >> (2 * j)) & 3;
                const int32_t xv = xi[g * 64 + 8 * m + 4 * (k / 2) + pos];
                dot[r] += code * xv;
                xsum[r] += xv;
              }
            }
          }
        }
        for (int r = 0; r < 16; ++r) {
          const float s = HalfToFloat(scales[g * 16 + r]), z = zeros.Zero(g, r);
          acc[r] += s * (static_cast<float>(dot[r]) - z * static_cast<float>(xsum[r]));
        }
      }
      for (int64_t r = 0; r < rows; ++r) y[i * w.rows + t * 16 + r] = acc[r] * x.scale[i];
    }
  }
}

// Whether this target's kernel reads BiasActivations' x + 128 (VNNI biases each group in
// registers instead).
bool ReadsBiasedActivations() { return ACCLLM_GEMM_AVX2_TILES != 0; }

}  // namespace HWY_NAMESPACE
}  // namespace accllm
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace accllm {

HWY_EXPORT(Sparse24Tiles);
HWY_EXPORT(ReadsBiasedActivations);

void BiasActivations(const TiledSparse24& w, const PreparedA8& x, std::vector<uint8_t>& out) {
  out.clear();
  if (!w.integer_zeros || x.n < 8 || !HWY_DYNAMIC_DISPATCH(ReadsBiasedActivations)()) return;
  // Whole blocks of 8 tokens are all the kernel reads (a 64-bit XOR: 8 bytes at a time).
  const size_t words = static_cast<size_t>(x.n / 8 * 8 * x.chunks * 2);
  out.resize(words * 8);
  const auto* in = reinterpret_cast<const uint8_t*>(x.x4.data());
  for (size_t i = 0; i < words; ++i) {
    uint64_t v;
    std::memcpy(&v, in + i * 8, 8);
    v ^= 0x8080808080808080ull;
    std::memcpy(out.data() + i * 8, &v, 8);
  }
}

void GemmA8Sparse24TileRange(const TiledSparse24& w, const PreparedA8& x,
                             std::span<const uint8_t> biased, int64_t tile_begin, int64_t tile_end,
                             float* y) {
  HWY_DYNAMIC_DISPATCH(Sparse24Tiles)(w, x, biased, tile_begin, tile_end, y);
}

void GemmA8Sparse24(const TiledSparse24& w, const PreparedA8& x, float* y, ThreadPool* pool) {
  const GemmJob job{.sparse = &w, .y = y};  // a group of one: it makes x + 128 once
  GemmA8Group({&job, 1}, x, pool);
}

}  // namespace accllm
#endif  // HWY_ONCE
