// Compiled once per SIMD target by Highway (foreach_target re-includes this file).
#include "workers/cpu/gemm_a8.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "workers/cpu/gemm_a8.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"         // HWY_EXPORT, HWY_DYNAMIC_DISPATCH
// After highway.h, so it is re-included per target like this file.
#include "workers/cpu/vnni_tile-inl.h"  // LoadHalves16, AddGroupTerm, StoreTileRows
#include "workers/cpu/gemm_a8_avx2-inl.h"  // TileG64Avx2

#undef ACCLLM_GEMM_X86
#undef ACCLLM_GEMM_VNNI
#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
#include <immintrin.h>
#define ACCLLM_GEMM_X86 1
#else
#define ACCLLM_GEMM_X86 0
#endif
#if HWY_TARGET == HWY_AVX3_DL
#define ACCLLM_GEMM_VNNI 1
#else
#define ACCLLM_GEMM_VNNI 0
#endif

HWY_BEFORE_NAMESPACE();
namespace accllm {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Tokens whose dots are formed against one tile's codes while they sit in registers / L1.
constexpr int64_t kTokenBlock = 16;

#if ACCLLM_GEMM_VNNI
// Highway 1.0.3 compiles AVX3_DL for "avxvnni" (the VEX form); VPDPBUSD on zmm needs
// avx512vnni, which every CPU Highway dispatches AVX3_DL to has (it checks AVX512_VNNI).
#define ACCLLM_VNNI_ATTR __attribute__((target(HWY_TARGET_STR ",avx512vnni")))

// v[4c + s] = step s (4 input columns) of the 16 rows' codes in 16-column chunk c, as u8
// lanes. Fully unrolled (-O2 would not), so the codes stay in registers.
template <int kBits, int kChunks>
ACCLLM_VNNI_ATTR HWY_INLINE void UnpackChunks(const uint8_t* chunks, int64_t chunk_bytes,
                                              __m512i* v) {
  constexpr int kPerByte = 8 / kBits;
  const __m512i mask = _mm512_set1_epi8(static_cast<char>((1 << kBits) - 1));
#pragma GCC unroll 4
  for (int c = 0; c < kChunks; ++c) {
#pragma GCC unroll 4
    for (int q = 0; q < kBits / 2; ++q) {
      const __m512i block = _mm512_load_si512(chunks + c * chunk_bytes + q * 64);
#pragma GCC unroll 4
      for (int j = 0; j < kPerByte; ++j) {
        // 16-bit shifts then a byte mask: bits shifted in from the neighbour byte are masked.
        v[c * 4 + q * kPerByte + j] =
            kBits == 8 ? block : _mm512_and_si512(_mm512_srli_epi16(block, kBits * j), mask);
      }
    }
  }
}

// dots[tok][16] (+)= the 16 rows' u8×s8 dots over kChunks 16-column chunks. The codes are
// unpacked into registers once and reused by every token of the block.
template <int kBits, int kChunks>
ACCLLM_VNNI_ATTR void DotsVnni(const uint8_t* chunks, int64_t chunk_bytes, const int32_t* x4,
                               int64_t x4_stride, int64_t ntok, bool accumulate, int32_t* dots) {
  __m512i v[4 * kChunks];
  UnpackChunks<kBits, kChunks>(chunks, chunk_bytes, v);
  // Independent accumulator chains (VPDPBUSD's latency is several cycles): 4 tokens with
  // 2 chains each, then one token at a time with 4 chains. Integer sums: order-free.
  int64_t t = 0;
  for (; t + 4 <= ntok; t += 4) {
    __m512i acc[4][2];
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      acc[k][0] = accumulate ? _mm512_load_si512(dots + (t + k) * 16) : _mm512_setzero_si512();
      acc[k][1] = _mm512_setzero_si512();
    }
#pragma GCC unroll 16
    for (int s = 0; s < 4 * kChunks; ++s) {
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) {
        acc[k][s & 1] = _mm512_dpbusd_epi32(acc[k][s & 1], v[s],
                                            _mm512_set1_epi32(x4[(t + k) * x4_stride + s]));
      }
    }
#pragma GCC unroll 4
    for (int k = 0; k < 4; ++k) {
      _mm512_store_si512(dots + (t + k) * 16, _mm512_add_epi32(acc[k][0], acc[k][1]));
    }
  }
  for (; t < ntok; ++t) {
    const int32_t* xt = x4 + t * x4_stride;
    __m512i acc[4];
    acc[0] = accumulate ? _mm512_load_si512(dots + t * 16) : _mm512_setzero_si512();
    acc[1] = acc[2] = acc[3] = _mm512_setzero_si512();
#pragma GCC unroll 16
    for (int s = 0; s < 4 * kChunks; ++s) {
      acc[s & 3] = _mm512_dpbusd_epi32(acc[s & 3], v[s], _mm512_set1_epi32(xt[s]));
    }
    _mm512_store_si512(dots + t * 16, _mm512_add_epi32(_mm512_add_epi32(acc[0], acc[1]),
                                                       _mm512_add_epi32(acc[2], acc[3])));
  }
}

// Group size 64 (4 chunks), the common case, fused end to end for kTok tokens (4 or 1): per
// group the codes are unpacked into registers, the dots formed in independent chains and
// the float group terms added to per-token accumulators that never leave the registers.
// acc + dots of v with the word at `x` broadcast, the broadcast folded into the instruction
// ({1to16}): GCC emits a separate VPBROADCASTD per word otherwise, one more uop for each dot.
ACCLLM_VNNI_ATTR HWY_INLINE __m512i DpbusdBroadcast(__m512i acc, __m512i v, const int32_t* x) {
  __asm__("vpdpbusd %2%{1to16%}, %1, %0" : "+v"(acc) : "v"(v), "m"(*x));
  return acc;
}

// x4: one token's words (kTok 1) or a quad's interleaved words (kTok 4, PreparedA8::quad):
// either way word s of group g for token k is x4[(g · 16 + s) · kTok + k].
template <int kBits, int kTok>
ACCLLM_VNNI_ATTR void TileG64Vnni(const uint8_t* blocks, int64_t chunk_bytes, int64_t groups,
                                  const uint16_t* scales, const uint16_t* zeros, const int32_t* x4,
                                  int64_t quad_stride, const float* group_sums, const float* x_scale, float* y,
                                  int64_t y_stride, int64_t rows) {
  constexpr int kChains = kTok == 1 ? 4 : kTok == 4 ? 2 : 1;  // 8 chains or more in flight
  __m512 facc[kTok];
#pragma GCC unroll 8
  for (int k = 0; k < kTok; ++k) facc[k] = _mm512_setzero_ps();
  for (int64_t g = 0; g < groups; ++g) {
    const uint8_t* chunks = blocks + g * 4 * chunk_bytes;
    PrefetchTileGroupAhead(chunks, chunk_bytes, scales, zeros, g);
    const int32_t* xg = x4 + g * 16 * std::min(kTok, 4);
    const int32_t* xg2 = xg + quad_stride;  // kTok 8: the second quad
    __m512i dots[kTok];
    if constexpr (kBits == 2 && kTok == 1) {
      // W2, one token (decode): each 2-bit field is masked in place, not shifted, into its
      // own accumulator: acc_j = 4^j · Σ c·x exactly (≤ 4·192·127 per lane and step), shifted
      // back once per group. Half the unpacking work of the general path.
      __m512i acc_j[4];
#pragma GCC unroll 4
      for (int j = 0; j < 4; ++j) acc_j[j] = _mm512_setzero_si512();
#pragma GCC unroll 4
      for (int c = 0; c < 4; ++c) {
        const __m512i block = _mm512_load_si512(chunks + c * chunk_bytes);
#pragma GCC unroll 4
        for (int j = 0; j < 4; ++j) {
          const __m512i field =
              _mm512_and_si512(block, _mm512_set1_epi8(static_cast<char>(3 << (2 * j))));
          acc_j[j] = _mm512_dpbusd_epi32(acc_j[j], field, _mm512_set1_epi32(xg[c * 4 + j]));
        }
      }
      dots[0] = _mm512_add_epi32(
          _mm512_add_epi32(acc_j[0], _mm512_srai_epi32(acc_j[1], 2)),
          _mm512_add_epi32(_mm512_srai_epi32(acc_j[2], 4), _mm512_srai_epi32(acc_j[3], 6)));
    } else {
      __m512i v[16];
      UnpackChunks<kBits, 4>(chunks, chunk_bytes, v);
      __m512i acc[kTok][kChains];
#pragma GCC unroll 8
      for (int k = 0; k < kTok; ++k) {
#pragma GCC unroll 4
        for (int a = 0; a < kChains; ++a) acc[k][a] = _mm512_setzero_si512();
      }
#pragma GCC unroll 16
      for (int s = 0; s < 16; ++s) {
#pragma GCC unroll 8
        for (int k = 0; k < kTok; ++k) {
          acc[k][s % kChains] = DpbusdBroadcast(
              acc[k][s % kChains], v[s],
              kTok == 1 ? xg + s : (k < 4 ? xg : xg2) + s * 4 + k % 4);
        }
      }
#pragma GCC unroll 8
      for (int k = 0; k < kTok; ++k) {
        dots[k] = acc[k][0];
#pragma GCC unroll 4
        for (int a = 1; a < kChains; ++a) dots[k] = _mm512_add_epi32(dots[k], acc[k][a]);
      }
    }
    const __m512 scale = LoadHalves16(scales + g * 16);
    const __m512 zero = LoadHalves16(zeros + g * 16);
#pragma GCC unroll 8
    for (int k = 0; k < kTok; ++k) {
      facc[k] = AddGroupTerm(facc[k], scale, zero, _mm512_cvtepi32_ps(dots[k]),
                             _mm512_set1_ps(group_sums[k * groups + g]));
    }
  }
  StoreTileRows<kTok>(facc, x_scale, y, y_stride, rows);
}

template <int kBits>
ACCLLM_VNNI_ATTR void TilesG64Vnni(const TiledLinear& w, const PreparedA8& x, int64_t tile_begin,
                                   int64_t tile_end, float* y) {
  for (int64_t t = tile_begin; t < tile_end; ++t) {
    const uint16_t* scales = w.scales.data() + t * w.groups * 16;
    const uint16_t* zeros = w.zeros.data() + t * w.groups * 16;
    const int64_t rows = std::min<int64_t>(16, w.rows - t * 16);
    const int64_t quad_stride = x.chunks * 16;
    int64_t i = 0;
    // 8 tokens per unpacked group where there are 8: the unpacking is shared by more dots.
    for (; i + 8 <= x.n; i += 8) {
      TileG64Vnni<kBits, 8>(w.tile_codes(t), w.chunk_bytes, w.groups, scales, zeros, x.quad(i / 4),
                            quad_stride, x.group_sums.data() + i * x.groups, x.scale.data() + i,
                            y + i * w.rows + t * 16, w.rows, rows);
    }
    for (; i + 4 <= x.n; i += 4) {
      TileG64Vnni<kBits, 4>(w.tile_codes(t), w.chunk_bytes, w.groups, scales, zeros, x.quad(i / 4),
                            quad_stride, x.group_sums.data() + i * x.groups, x.scale.data() + i,
                            y + i * w.rows + t * 16, w.rows, rows);
    }
    for (; i < x.n; ++i) {
      TileG64Vnni<kBits, 1>(w.tile_codes(t), w.chunk_bytes, w.groups, scales, zeros, x.token_x4(i),
                            0, x.group_sums.data() + i * x.groups, x.scale.data() + i,
                            y + i * w.rows + t * 16, w.rows, rows);
    }
  }
}

template <int kBits>
ACCLLM_VNNI_ATTR void DotsVnniBits(const uint8_t* chunks, int64_t num_chunks, int64_t chunk_bytes,
                                   const int32_t* x4, int64_t x4_stride, int64_t ntok,
                                   int32_t* dots) {
  for (int64_t c = 0; c < num_chunks; c += 4) {
    const uint8_t* p = chunks + c * chunk_bytes;
    const int32_t* x = x4 + c * 4;
    const bool acc = c > 0;
    switch (std::min<int64_t>(4, num_chunks - c)) {
      case 4:
        DotsVnni<kBits, 4>(p, chunk_bytes, x, x4_stride, ntok, acc, dots);
        break;
      case 3:
        DotsVnni<kBits, 3>(p, chunk_bytes, x, x4_stride, ntok, acc, dots);
        break;
      case 2:
        DotsVnni<kBits, 2>(p, chunk_bytes, x, x4_stride, ntok, acc, dots);
        break;
      default:
        DotsVnni<kBits, 1>(p, chunk_bytes, x, x4_stride, ntok, acc, dots);
        break;
    }
  }
}
#endif  // ACCLLM_GEMM_VNNI

#if ACCLLM_GEMM_AVX2_TILES
template <int kBits>
void TilesG64Avx2(const TiledLinear& w, const PreparedA8& x, int64_t tile_begin,
                  int64_t tile_end, float* y) {
  const int64_t quad_stride = x.chunks * 16;
  for (int64_t t = tile_begin; t < tile_end; ++t) {
    const uint16_t* scales = w.scales.data() + t * w.groups * 16;
    const uint16_t* zeros = w.zeros.data() + t * w.groups * 16;
    const int64_t rows = std::min<int64_t>(16, w.rows - t * 16);
    auto run = [&](int64_t i, auto tok, const int32_t* x4) {
      TileG64Avx2<kBits, decltype(tok)::value>(
          w.tile_codes(t), w.chunk_bytes, w.groups, scales, zeros, x4, quad_stride,
          x.group_sums.data() + i * x.groups, x.scale.data() + i, y + i * w.rows + t * 16,
          w.rows, rows);
    };
    int64_t i = 0;
    // 8 tokens per unpacked step where there are 8; W2 only: W4 keeps an i32 sum per token
    // across its mid-group flush as well, which 8 tokens would spill.
    if constexpr (kBits == 2) {
      for (; i + 8 <= x.n; i += 8) run(i, std::integral_constant<int, 8>(), x.quad(i / 4));
    }
    for (; i + 4 <= x.n; i += 4) run(i, std::integral_constant<int, 4>(), x.quad(i / 4));
    for (; i < x.n; ++i) run(i, std::integral_constant<int, 1>(), x.token_x4(i));
  }
}
#endif  // ACCLLM_GEMM_AVX2_TILES

#if ACCLLM_GEMM_X86
// One token: AVX2 VPMADDUBSW + VPMADDWD (W2/W4 only: u8 codes ≤ 15, so the i16 pairs
// never saturate).
HWY_INLINE void DotsMaddubs(const uint8_t* chunks, int64_t num_chunks, int bits,
                            int64_t chunk_bytes, const int32_t* x4, int32_t* out) {
  const int per_byte = 8 / bits;
  const __m256i mask = _mm256_set1_epi8(static_cast<char>((1 << bits) - 1));
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc_lo = _mm256_setzero_si256(), acc_hi = _mm256_setzero_si256();
  for (int64_t c = 0; c < num_chunks; ++c) {
    const uint8_t* chunk = chunks + c * chunk_bytes;
    for (int q = 0; q < bits / 2; ++q) {
      const __m256i lo = _mm256_load_si256(reinterpret_cast<const __m256i*>(chunk + q * 64));
      const __m256i hi = _mm256_load_si256(reinterpret_cast<const __m256i*>(chunk + q * 64 + 32));
      for (int j = 0; j < per_byte; ++j) {
        const __m256i xb = _mm256_set1_epi32(x4[c * 4 + q * per_byte + j]);
        const __m256i cl = _mm256_and_si256(_mm256_srli_epi16(lo, bits * j), mask);
        const __m256i ch = _mm256_and_si256(_mm256_srli_epi16(hi, bits * j), mask);
        acc_lo = _mm256_add_epi32(acc_lo, _mm256_madd_epi16(_mm256_maddubs_epi16(cl, xb), ones));
        acc_hi = _mm256_add_epi32(acc_hi, _mm256_madd_epi16(_mm256_maddubs_epi16(ch, xb), ones));
      }
    }
  }
  _mm256_store_si256(reinterpret_cast<__m256i*>(out), acc_lo);
  _mm256_store_si256(reinterpret_cast<__m256i*>(out + 8), acc_hi);
}
#endif

// One token, any target (and W8 without VNNI): the same sums in plain C.
HWY_INLINE void DotsPortable(const uint8_t* chunks, int64_t num_chunks, int bits,
                             int64_t chunk_bytes, const int32_t* x4, int32_t* out) {
  const int per_byte = 8 / bits;
  const int mask = (1 << bits) - 1;
  for (int lane = 0; lane < 16; ++lane) out[lane] = 0;
  for (int64_t c = 0; c < num_chunks; ++c) {
    const uint8_t* chunk = chunks + c * chunk_bytes;
    for (int q = 0; q < bits / 2; ++q) {
      for (int j = 0; j < per_byte; ++j) {
        int8_t xs[4];
        std::memcpy(xs, &x4[c * 4 + q * per_byte + j], 4);
        for (int lane = 0; lane < 16; ++lane) {
          const uint8_t* b = chunk + q * 64 + lane * 4;
          int32_t sum = 0;
          for (int i = 0; i < 4; ++i) sum += ((b[i] >> (bits * j)) & mask) * xs[i];
          out[lane] += sum;
        }
      }
    }
  }
}

// dots[tok][16] = the integer dots of one tile's group (num_chunks chunks) with ntok tokens.
HWY_INLINE void GroupDots(const uint8_t* chunks, int64_t num_chunks, int bits, int64_t chunk_bytes,
                          const int32_t* x4, int64_t x4_stride, int64_t ntok, int32_t* dots) {
#if ACCLLM_GEMM_VNNI
  switch (bits) {
    case 2:
      return DotsVnniBits<2>(chunks, num_chunks, chunk_bytes, x4, x4_stride, ntok, dots);
    case 4:
      return DotsVnniBits<4>(chunks, num_chunks, chunk_bytes, x4, x4_stride, ntok, dots);
    default:
      return DotsVnniBits<8>(chunks, num_chunks, chunk_bytes, x4, x4_stride, ntok, dots);
  }
#else
  for (int64_t t = 0; t < ntok; ++t) {
#if ACCLLM_GEMM_X86
    if (bits != 8) {
      DotsMaddubs(chunks, num_chunks, bits, chunk_bytes, x4 + t * x4_stride, dots + t * 16);
      continue;
    }
#endif
    DotsPortable(chunks, num_chunks, bits, chunk_bytes, x4 + t * x4_stride, dots + t * 16);
  }
#endif
}

void GemmTiles(const TiledLinear& w, const PreparedA8& x, int64_t tile_begin, int64_t tile_end,
               float* y) {
#if ACCLLM_GEMM_VNNI
  if (w.group == 64 && w.cols % 64 == 0) {
    switch (w.bits) {
      case 2:
        return TilesG64Vnni<2>(w, x, tile_begin, tile_end, y);
      case 4:
        return TilesG64Vnni<4>(w, x, tile_begin, tile_end, y);
      default:
        return TilesG64Vnni<8>(w, x, tile_begin, tile_end, y);
    }
  }
#elif ACCLLM_GEMM_AVX2_TILES
  if (w.group == 64 && w.cols % 64 == 0 && w.bits != 8) {
    return w.bits == 2 ? TilesG64Avx2<2>(w, x, tile_begin, tile_end, y)
                       : TilesG64Avx2<4>(w, x, tile_begin, tile_end, y);
  }
#endif
  const hn::CappedTag<float, 16> df;  // as many of the 16 lanes as the target holds
  const hn::RebindToSigned<decltype(df)> di;
  const hn::Rebind<hwy::float16_t, decltype(df)> dh;
  const int64_t step = static_cast<int64_t>(hn::Lanes(df));
  const int64_t chunks_per_group = w.group / 16;
  const int64_t x4_stride = x.chunks * 4;
  HWY_ALIGN int32_t dots[kTokenBlock * 16];
  HWY_ALIGN float acc[kTokenBlock * 16];
  for (int64_t t0 = 0; t0 < x.n; t0 += kTokenBlock) {
    const int64_t ntok = std::min(kTokenBlock, x.n - t0);
    const int32_t* x4 = x.token_x4(t0);
    for (int64_t t = tile_begin; t < tile_end; ++t) {
      const uint8_t* blocks = w.tile_codes(t);
      std::fill(acc, acc + ntok * 16, 0.0f);
      for (int64_t g = 0; g < w.groups; ++g) {
        const int64_t c0 = g * chunks_per_group;
        const int64_t c1 = std::min(w.chunks, c0 + chunks_per_group);
        GroupDots(blocks + c0 * w.chunk_bytes, c1 - c0, w.bits, w.chunk_bytes, x4 + c0 * 4,
                  x4_stride, ntok, dots);
        const auto* s =
            reinterpret_cast<const hwy::float16_t*>(w.scales.data() + (t * w.groups + g) * 16);
        const auto* z =
            reinterpret_cast<const hwy::float16_t*>(w.zeros.data() + (t * w.groups + g) * 16);
        for (int64_t lane = 0; lane < 16; lane += step) {
          const auto scale = hn::PromoteTo(df, hn::LoadU(dh, s + lane));
          const auto zero = hn::PromoteTo(df, hn::LoadU(dh, z + lane));
          for (int64_t k = 0; k < ntok; ++k) {
            // acc += scale · (dot − zero · xsum), unfused, in the oracle's order.
            const auto xsum = hn::Set(df, x.group_sums[(t0 + k) * x.groups + g]);
            const auto d = hn::ConvertTo(df, hn::Load(di, dots + k * 16 + lane));
            const auto term = hn::Mul(scale, hn::Sub(d, hn::Mul(zero, xsum)));
            float* a = acc + k * 16 + lane;
            hn::Store(hn::Add(hn::Load(df, a), term), df, a);
          }
        }
      }
      const int64_t rows = std::min<int64_t>(16, w.rows - t * 16);
      for (int64_t k = 0; k < ntok; ++k) {
        float* yk = y + (t0 + k) * w.rows + t * 16;
        const float xs = x.scale[t0 + k];
        for (int64_t lane = 0; lane < rows; ++lane) yk[lane] = acc[k * 16 + lane] * xs;
      }
    }
  }
}

const char* TargetName() { return hwy::TargetName(HWY_TARGET); }

}  // namespace HWY_NAMESPACE
}  // namespace accllm
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace accllm {

HWY_EXPORT(GemmTiles);
HWY_EXPORT(TargetName);

void GemmA8TileRange(const TiledLinear& w, const PreparedA8& x, int64_t tile_begin,
                     int64_t tile_end, float* y) {
  HWY_DYNAMIC_DISPATCH(GemmTiles)(w, x, tile_begin, tile_end, y);
}

void GemmA8(const TiledLinear& w, const PreparedA8& x, float* y, ThreadPool* pool) {
  ForEachTile(pool, w.tiles, [&](int64_t b, int64_t e, int) { GemmA8TileRange(w, x, b, e, y); });
}

std::string GemvTargetName() { return HWY_DYNAMIC_DISPATCH(TargetName)(); }

}  // namespace accllm
#endif  // HWY_ONCE
