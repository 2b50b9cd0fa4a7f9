// Compiled once per SIMD target by Highway (foreach_target re-includes this file).
#include "workers/cpu/gemv_a8.h"

#include <cstring>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "workers/cpu/gemv_a8.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"         // HWY_EXPORT, HWY_DYNAMIC_DISPATCH
#include "model/dtype.h"         // HalfToFloat

#undef ACCLLM_GEMV_X86
#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
#include <immintrin.h>
#define ACCLLM_GEMV_X86 1
#else
#define ACCLLM_GEMV_X86 0
#endif

HWY_BEFORE_NAMESPACE();
namespace accllm {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Accumulates, for one tile and one group, the 16 lanes' integer dot products.
#if ACCLLM_GEMV_X86
HWY_INLINE void GroupDots(const uint8_t* blocks, int64_t chunk_begin, int64_t chunk_end,
                          int bits, int64_t chunk_bytes, const int32_t* x4, int32_t* out) {
  const int per_byte = 8 / bits;
  const __m256i mask = _mm256_set1_epi8(static_cast<char>((1 << bits) - 1));
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc_lo = _mm256_setzero_si256(), acc_hi = _mm256_setzero_si256();
  for (int64_t c = chunk_begin; c < chunk_end; ++c) {
    const uint8_t* chunk = blocks + c * chunk_bytes;
    for (int q = 0; q < bits / 2; ++q) {
      const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(chunk + q * 64));
      const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(chunk + q * 64 + 32));
      for (int j = 0; j < per_byte; ++j) {
        const __m256i xb = _mm256_set1_epi32(x4[c * 4 + q * per_byte + j]);
        // 16-bit shifts then a byte mask: the bits shifted in from the neighbour byte are masked.
        const __m256i cl = _mm256_and_si256(_mm256_srli_epi16(lo, bits * j), mask);
        const __m256i ch = _mm256_and_si256(_mm256_srli_epi16(hi, bits * j), mask);
        // u8 codes (≤ 15 for W2/W4, so pairs never saturate i16) × s8 activations.
        acc_lo = _mm256_add_epi32(acc_lo, _mm256_madd_epi16(_mm256_maddubs_epi16(cl, xb), ones));
        acc_hi = _mm256_add_epi32(acc_hi, _mm256_madd_epi16(_mm256_maddubs_epi16(ch, xb), ones));
      }
    }
  }
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), acc_lo);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8), acc_hi);
}
#endif

// Portable form of the same computation (any target; also W8, whose u8 codes
// up to 255 would saturate VPMADDUBSW's 16-bit pairs).
HWY_INLINE void GroupDotsPortable(const uint8_t* blocks, int64_t chunk_begin, int64_t chunk_end,
                                  int bits, int64_t chunk_bytes, const int32_t* x4, int32_t* out) {
  const int per_byte = 8 / bits;
  const int mask = (1 << bits) - 1;
  for (int lane = 0; lane < 16; ++lane) out[lane] = 0;
  for (int64_t c = chunk_begin; c < chunk_end; ++c) {
    const uint8_t* chunk = blocks + c * chunk_bytes;
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

void GemvTiles(const TiledLinear& w, const PreparedA8& x, int64_t tile_begin, int64_t tile_end,
               float* y) {
  const hn::CappedTag<float, 16> df;  // as many of the 16 lanes as the target holds
  const hn::RebindToSigned<decltype(df)> di;
  const int64_t step = static_cast<int64_t>(hn::Lanes(df));
  const int64_t chunks_per_group = w.group / 16;
  HWY_ALIGN int32_t dots[16];
  HWY_ALIGN float acc[16], scale[16], zero[16];
  for (int64_t t = tile_begin; t < tile_end; ++t) {
    const uint8_t* blocks = w.tile_codes(t);
    for (float& a : acc) a = 0.0f;
    for (int64_t g = 0; g < w.groups; ++g) {
      const int64_t c0 = g * chunks_per_group;
      const int64_t c1 = std::min(w.chunks, c0 + chunks_per_group);
#if ACCLLM_GEMV_X86
      if (w.bits != 8) {
        GroupDots(blocks, c0, c1, w.bits, w.chunk_bytes, x.x4.data(), dots);
      } else {
        GroupDotsPortable(blocks, c0, c1, w.bits, w.chunk_bytes, x.x4.data(), dots);
      }
#else
      GroupDotsPortable(blocks, c0, c1, w.bits, w.chunk_bytes, x.x4.data(), dots);
#endif
      const uint16_t* s = w.scales.data() + (t * w.groups + g) * 16;
      const uint16_t* z = w.zeros.data() + (t * w.groups + g) * 16;
      for (int lane = 0; lane < 16; ++lane) {
        scale[lane] = HalfToFloat(s[lane]);
        zero[lane] = HalfToFloat(z[lane]);
      }
      // acc += scale · (dot − zero · xsum), unfused, in the oracle's order.
      const auto xsum = hn::Set(df, x.group_sums[g]);
      for (int64_t lane = 0; lane < 16; lane += step) {
        const auto d = hn::ConvertTo(df, hn::Load(di, dots + lane));
        const auto term =
            hn::Mul(hn::Load(df, scale + lane), hn::Sub(d, hn::Mul(hn::Load(df, zero + lane), xsum)));
        hn::Store(hn::Add(hn::Load(df, acc + lane), term), df, acc + lane);
      }
    }
    const int64_t rows = std::min<int64_t>(16, w.rows - t * 16);
    for (int64_t lane = 0; lane < rows; ++lane) y[t * 16 + lane] = acc[lane] * x.scale;
  }
}

const char* TargetName() { return hwy::TargetName(HWY_TARGET); }

}  // namespace HWY_NAMESPACE
}  // namespace accllm
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace accllm {

HWY_EXPORT(GemvTiles);
HWY_EXPORT(TargetName);

PreparedA8 PrepareA8(const A8Vector& x, int64_t cols, int64_t group) {
  PreparedA8 p;
  p.scale = x.scale;
  const int64_t chunks = (cols + 15) / 16;
  std::vector<int8_t> padded(chunks * 16, 0);
  std::memcpy(padded.data(), x.values.data(), std::min<int64_t>(cols, x.values.size()));
  p.x4.resize(chunks * 4);
  std::memcpy(p.x4.data(), padded.data(), padded.size());
  const int64_t groups = (cols + group - 1) / group;
  p.group_sums.assign(groups, 0.0f);
  for (int64_t g = 0; g < groups; ++g) {
    int32_t sum = 0;
    for (int64_t i = g * group; i < std::min(cols, (g + 1) * group); ++i) sum += padded[i];
    p.group_sums[g] = static_cast<float>(sum);
  }
  return p;
}

void GemvA8(const TiledLinear& w, const PreparedA8& x, std::span<float> y, ThreadPool* pool) {
  auto run = [&](int64_t b, int64_t e, int) {
    HWY_DYNAMIC_DISPATCH(GemvTiles)(w, x, b, e, y.data());
  };
  if (pool == nullptr) {
    run(0, w.tiles, 0);
  } else {
    pool->ParallelFor(w.tiles, run);
  }
}

std::string GemvTargetName() { return HWY_DYNAMIC_DISPATCH(TargetName)(); }

}  // namespace accllm
#endif  // HWY_ONCE
