// Compiled once per SIMD target by Highway (foreach_target re-includes this file).
#include "workers/cpu/gemm_a8_sparse24.h"

#include <algorithm>
#include <cstring>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "workers/cpu/gemm_a8_sparse24.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"         // HWY_EXPORT, HWY_DYNAMIC_DISPATCH
// After highway.h, so it is re-included per target like this file.
#include "workers/cpu/vnni_tile-inl.h"  // LoadHalves16, AddGroupTerm, StoreTileRows
#include "model/dtype.h"         // HalfToFloat

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

// One tile, kTok tokens (8, 4 or 1): per group the 64 activations of each token sit in one
// register; per step the codes and gather indices are unpacked once for all tokens.
template <int kTok>
ACCLLM_S24_ATTR void TileVnni(const uint8_t* codes, const uint8_t* positions, int64_t groups,
                              const uint16_t* scales, const uint16_t* zeros, const int8_t* x,
                              int64_t x_stride, const float* x_scale, float* y, int64_t y_stride,
                              int64_t rows) {
  const __m512i three = _mm512_set1_epi8(3);
  const __m512i ones = _mm512_set1_epi8(1);
  // Byte 4r + i of a step gathers from block i / 2 of the step's 8 columns.
  const __m512i half_base = _mm512_set1_epi32(0x04040000);
  __m512 facc[kTok];
#pragma GCC unroll 8
  for (int k = 0; k < kTok; ++k) facc[k] = _mm512_setzero_ps();
  for (int64_t g = 0; g < groups; ++g) {
    // A few groups ahead, as in gemm_a8.cc (one thread's hardware prefetch is too shallow).
    constexpr int64_t kAhead = 8;
#pragma GCC unroll 2
    for (int line = 0; line < 2; ++line) {
      _mm_prefetch(reinterpret_cast<const char*>(codes + (g + kAhead) * 128 + line * 64),
                   _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(positions + (g + kAhead) * 128 + line * 64),
                   _MM_HINT_T0);
    }
    _mm_prefetch(reinterpret_cast<const char*>(scales + (g + kAhead) * 16), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(zeros + (g + kAhead) * 16), _MM_HINT_T0);
    __m512i xw[kTok], dot[kTok], xsum[kTok];
#pragma GCC unroll 8
    for (int k = 0; k < kTok; ++k) {
      xw[k] = _mm512_loadu_si512(x + k * x_stride + g * 64);
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
        const __m512i idx = _mm512_add_epi8(_mm512_and_si512(_mm512_srli_epi16(pb, 2 * j), three),
                                            _mm512_add_epi8(half_base, _mm512_set1_epi8(8 * m)));
#pragma GCC unroll 8
        for (int k = 0; k < kTok; ++k) {
          const __m512i gx = _mm512_permutexvar_epi8(idx, xw[k]);
          dot[k] = _mm512_dpbusd_epi32(dot[k], c, gx);
          xsum[k] = _mm512_dpbusd_epi32(xsum[k], ones, gx);
        }
      }
    }
    const __m512 scale = LoadHalves16(scales + g * 16);
    const __m512 zero = LoadHalves16(zeros + g * 16);
#pragma GCC unroll 8
    for (int k = 0; k < kTok; ++k) {
      // xsum: over each row's kept columns (the oracle's).
      facc[k] = AddGroupTerm(facc[k], scale, zero, _mm512_cvtepi32_ps(dot[k]),
                             _mm512_cvtepi32_ps(xsum[k]));
    }
  }
  StoreTileRows<kTok>(facc, x_scale, y, y_stride, rows);
}
#endif  // ACCLLM_S24_VNNI

void Sparse24Tiles(const TiledSparse24& w, const PreparedA8& x, int64_t tile_begin,
                   int64_t tile_end, float* y) {
  const int64_t x_stride = x.chunks * 16;  // bytes per token
  const int8_t* xb = reinterpret_cast<const int8_t*>(x.x4.data());
  for (int64_t t = tile_begin; t < tile_end; ++t) {
    const uint8_t* codes = w.codes.data() + t * w.groups * 128;
    const uint8_t* positions = w.positions.data() + t * w.groups * 128;
    const uint16_t* scales = w.scales.data() + t * w.groups * 16;
    const uint16_t* zeros = w.zeros.data() + t * w.groups * 16;
    const int64_t rows = std::min<int64_t>(16, w.rows - t * 16);
    int64_t i = 0;
#if ACCLLM_S24_VNNI
    for (; i + 8 <= x.n; i += 8) {  // the steps' codes and indices unpacked for 8 tokens
      TileVnni<8>(codes, positions, w.groups, scales, zeros, xb + i * x_stride, x_stride,
                  x.scale.data() + i, y + i * w.rows + t * 16, w.rows, rows);
    }
    for (; i + 4 <= x.n; i += 4) {
      TileVnni<4>(codes, positions, w.groups, scales, zeros, xb + i * x_stride, x_stride,
                  x.scale.data() + i, y + i * w.rows + t * 16, w.rows, rows);
    }
    for (; i < x.n; ++i) {
      TileVnni<1>(codes, positions, w.groups, scales, zeros, xb + i * x_stride, x_stride,
                  x.scale.data() + i, y + i * w.rows + t * 16, w.rows, rows);
    }
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
          const float s = HalfToFloat(scales[g * 16 + r]), z = HalfToFloat(zeros[g * 16 + r]);
          acc[r] += s * (static_cast<float>(dot[r]) - z * static_cast<float>(xsum[r]));
        }
      }
      for (int64_t r = 0; r < rows; ++r) y[i * w.rows + t * 16 + r] = acc[r] * x.scale[i];
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace accllm
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace accllm {

HWY_EXPORT(Sparse24Tiles);

void GemmA8Sparse24TileRange(const TiledSparse24& w, const PreparedA8& x, int64_t tile_begin,
                             int64_t tile_end, float* y) {
  HWY_DYNAMIC_DISPATCH(Sparse24Tiles)(w, x, tile_begin, tile_end, y);
}

void GemmA8Sparse24(const TiledSparse24& w, const PreparedA8& x, float* y, ThreadPool* pool) {
  ForEachTile(pool, w.tiles,
              [&](int64_t b, int64_t e, int) { GemmA8Sparse24TileRange(w, x, b, e, y); });
}

}  // namespace accllm
#endif  // HWY_ONCE
