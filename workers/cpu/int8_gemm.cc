// Compiled once per SIMD target by Highway (foreach_target re-includes this file).
#include "workers/cpu/int8_gemm.h"

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "workers/cpu/int8_gemm.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"         // HWY_EXPORT, HWY_DYNAMIC_DISPATCH

#undef ACCLLM_INT8_VNNI
#undef ACCLLM_INT8_AVX2
#if HWY_TARGET == HWY_AVX3_DL
#include <immintrin.h>
#define ACCLLM_INT8_VNNI 1
#else
#define ACCLLM_INT8_VNNI 0
#endif
#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3
#include <immintrin.h>
#define ACCLLM_INT8_AVX2 1
#else
#define ACCLLM_INT8_AVX2 0
#endif

HWY_BEFORE_NAMESPACE();
namespace accllm {
namespace HWY_NAMESPACE {

#if ACCLLM_INT8_VNNI
// Highway 1.0.3's AVX3_DL target string lacks avx512vnni (see gemm_a8.cc).
#define ACCLLM_INT8_VNNI_ATTR __attribute__((target(HWY_TARGET_STR ",avx512vnni")))

// kTok tokens against one tile; kAcc independent accumulators per token hide the
// VPDPBUSD latency when few tokens share the loaded weights.
template <int kTok>
ACCLLM_INT8_VNNI_ATTR void TileVnni(const int8_t* blocks, int64_t steps, const uint32_t* xu,
                                    int64_t xu_stride, const int32_t* row_sums, int32_t* out,
                                    int64_t out_stride, int64_t rows) {
  constexpr int kAcc = kTok >= 8 ? 1 : 8 / kTok;
  __m512i acc[kTok][kAcc];
#pragma GCC unroll 8
  for (int t = 0; t < kTok; ++t) {
#pragma GCC unroll 4
    for (int a = 0; a < kAcc; ++a) acc[t][a] = _mm512_setzero_si512();
  }
  int64_t s = 0;
  for (; s + kAcc <= steps; s += kAcc) {
    // Lines a few steps ahead (see gemm_a8.cc: one thread's prefetch alone is too shallow).
#pragma GCC unroll 8
    for (int a = 0; a < kAcc; ++a) {
      _mm_prefetch(reinterpret_cast<const char*>(blocks + (s + a + 16) * 64), _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (int a = 0; a < kAcc; ++a) {
      const __m512i w = _mm512_load_si512(blocks + (s + a) * 64);
#pragma GCC unroll 8
      for (int t = 0; t < kTok; ++t) {
        acc[t][a] = _mm512_dpbusd_epi32(
            acc[t][a], _mm512_set1_epi32(static_cast<int>(xu[t * xu_stride + s + a])), w);
      }
    }
  }
  for (; s < steps; ++s) {
    const __m512i w = _mm512_load_si512(blocks + s * 64);
#pragma GCC unroll 8
    for (int t = 0; t < kTok; ++t) {
      acc[t][0] = _mm512_dpbusd_epi32(
          acc[t][0], _mm512_set1_epi32(static_cast<int>(xu[t * xu_stride + s])), w);
    }
  }
  const __m512i bias = _mm512_slli_epi32(_mm512_loadu_si512(row_sums), 7);  // 128 · Σ w
  for (int t = 0; t < kTok; ++t) {
    __m512i sum = acc[t][0];
    for (int a = 1; a < kAcc; ++a) sum = _mm512_add_epi32(sum, acc[t][a]);
    HWY_ALIGN int32_t lanes[16];
    _mm512_store_si512(lanes, _mm512_sub_epi32(sum, bias));
    std::memcpy(out + t * out_stride, lanes, static_cast<size_t>(rows) * 4);
  }
}
#endif  // ACCLLM_INT8_VNNI

#if ACCLLM_INT8_AVX2
// kTok tokens against one tile without VNNI: VPMADDUBSW wants one unsigned operand, and
// a +128 bias would let its i16 pairs saturate (255 · 127 · 2 > 2^15), so the signs move to
// the activations instead: |w| (u8, at most 128) times sign(w) · x (s8, |x| ≤ 127), pairs at
// most 2 · 128 · 127 < 2^15 — exact. Rows 0..7 and 8..15 are the two 32-byte halves.
template <int kTok>
void TileAvx2(const int8_t* blocks, int64_t steps, const int8_t* x, int64_t x_stride, int32_t* out,
              int64_t out_stride, int64_t rows) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc[kTok][2];
#pragma GCC unroll 4
  for (int t = 0; t < kTok; ++t) acc[t][0] = acc[t][1] = _mm256_setzero_si256();
  for (int64_t s = 0; s < steps; ++s) {
    _mm_prefetch(reinterpret_cast<const char*>(blocks + (s + 16) * 64), _MM_HINT_T0);
    const __m256i w_lo = _mm256_load_si256(reinterpret_cast<const __m256i*>(blocks + s * 64));
    const __m256i w_hi = _mm256_load_si256(reinterpret_cast<const __m256i*>(blocks + s * 64 + 32));
    const __m256i a_lo = _mm256_abs_epi8(w_lo), a_hi = _mm256_abs_epi8(w_hi);
#pragma GCC unroll 4
    for (int t = 0; t < kTok; ++t) {
      int32_t word;
      std::memcpy(&word, x + t * x_stride + s * 4, 4);
      const __m256i xb = _mm256_set1_epi32(word);
      acc[t][0] = _mm256_add_epi32(
          acc[t][0],
          _mm256_madd_epi16(_mm256_maddubs_epi16(a_lo, _mm256_sign_epi8(xb, w_lo)), ones));
      acc[t][1] = _mm256_add_epi32(
          acc[t][1],
          _mm256_madd_epi16(_mm256_maddubs_epi16(a_hi, _mm256_sign_epi8(xb, w_hi)), ones));
    }
  }
  for (int t = 0; t < kTok; ++t) {
    alignas(32) int32_t lanes[16];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), acc[t][0]);
    _mm256_store_si256(reinterpret_cast<__m256i*>(lanes + 8), acc[t][1]);
    std::memcpy(out + t * out_stride, lanes, static_cast<size_t>(rows) * 4);
  }
}
#endif  // ACCLLM_INT8_AVX2

void Int8Tiles(const TiledInt8& w, const int8_t* x, int64_t x_stride, int64_t n, int64_t tile_begin,
               int64_t tile_end, int32_t* dots) {
#if ACCLLM_INT8_VNNI
  // The activations biased to u8 (x + 128 = x ^ 0x80), 4 per word, once per call.
  std::vector<uint32_t> xu(static_cast<size_t>(n * w.steps));
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t s = 0; s < w.steps; ++s) {
      uint32_t word;
      std::memcpy(&word, x + i * x_stride + s * 4, 4);
      xu[i * w.steps + s] = word ^ 0x80808080u;
    }
  }
  for (int64_t t = tile_begin; t < tile_end; ++t) {
    const int8_t* blocks = w.blocks.data() + t * w.steps * 64;
    const int32_t* sums = w.row_sums.data() + t * 16;
    const int64_t rows = std::min<int64_t>(16, w.rows - t * 16);
    int64_t i = 0;
    auto run = [&](auto tok) {
      constexpr int kTok = decltype(tok)::value;
      for (; i + kTok <= n; i += kTok) {
        TileVnni<kTok>(blocks, w.steps, xu.data() + i * w.steps, w.steps, sums,
                       dots + i * w.rows + t * 16, w.rows, rows);
      }
    };
    run(std::integral_constant<int, 8>());
    run(std::integral_constant<int, 4>());
    run(std::integral_constant<int, 2>());
    run(std::integral_constant<int, 1>());
  }
#elif ACCLLM_INT8_AVX2
  for (int64_t t = tile_begin; t < tile_end; ++t) {
    const int8_t* blocks = w.blocks.data() + t * w.steps * 64;
    const int64_t rows = std::min<int64_t>(16, w.rows - t * 16);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
      TileAvx2<4>(blocks, w.steps, x + i * x_stride, x_stride, dots + i * w.rows + t * 16, w.rows,
                  rows);
    }
    for (; i < n; ++i) {
      TileAvx2<1>(blocks, w.steps, x + i * x_stride, x_stride, dots + i * w.rows + t * 16, w.rows,
                  rows);
    }
  }
#else
  for (int64_t t = tile_begin; t < tile_end; ++t) {
    const int8_t* blocks = w.blocks.data() + t * w.steps * 64;
    const int64_t rows = std::min<int64_t>(16, w.rows - t * 16);
    for (int64_t i = 0; i < n; ++i) {
      int32_t acc[16] = {};
      const int8_t* xi = x + i * x_stride;
      for (int64_t s = 0; s < w.steps; ++s) {
        const int8_t* b = blocks + s * 64;
        for (int r = 0; r < 16; ++r) {
          for (int k = 0; k < 4; ++k) acc[r] += int32_t{b[r * 4 + k]} * int32_t{xi[s * 4 + k]};
        }
      }
      std::memcpy(dots + i * w.rows + t * 16, acc, static_cast<size_t>(rows) * 4);
    }
  }
#endif
}

}  // namespace HWY_NAMESPACE
}  // namespace accllm
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace accllm {

HWY_EXPORT(Int8Tiles);

TiledInt8 TileInt8(const int8_t* q, int64_t rows, int64_t cols) {
  TiledInt8 w;
  w.rows = rows;
  w.cols = cols;
  w.tiles = (rows + 15) / 16;
  w.steps = (cols + 3) / 4;
  w.blocks.assign(w.tiles * w.steps * 64, 0);
  w.row_sums.assign(w.tiles * 16, 0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const int8_t v = q[r * cols + c];
      w.blocks[w.index(r, c)] = v;
      w.row_sums[r] += v;
    }
  }
  return w;
}

void Int8Gemm(const TiledInt8& w, const int8_t* x, int64_t x_stride, int64_t n, int32_t* dots,
              ThreadPool* pool) {
  ForEachTile(pool, w.tiles, [&](int64_t b, int64_t e, int) {
    HWY_DYNAMIC_DISPATCH(Int8Tiles)(w, x, x_stride, n, b, e, dots);
  });
}

}  // namespace accllm
#endif  // HWY_ONCE
