// The float side of the AVX-512 W×A8 tile kernels (gemm_a8.cc, gemm_a8_sparse24.cc): a
// group's fp16 parameters, its term in the scalar oracle's order, and the tile's rows
// scaled by each token's A8 scale. Re-included per SIMD target (Highway's -inl.h
// convention); defines something only for AVX3_DL, the target those kernels use.

// Per-target include guard (toggled by foreach_target).
#if defined(ACCLLM_WORKERS_CPU_VNNI_TILE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef ACCLLM_WORKERS_CPU_VNNI_TILE_INL_H_
#undef ACCLLM_WORKERS_CPU_VNNI_TILE_INL_H_
#else
#define ACCLLM_WORKERS_CPU_VNNI_TILE_INL_H_
#endif

#include <cstdint>

#include "hwy/highway.h"  // HWY_TARGET, HWY_INLINE

#if HWY_TARGET == HWY_AVX3_DL
#include <immintrin.h>
#endif

HWY_BEFORE_NAMESPACE();
namespace accllm {
namespace HWY_NAMESPACE {

#if HWY_TARGET == HWY_AVX3_DL
// The 16 rows' fp16 scales (or zeros) of one tile group as floats.
HWY_INLINE __m512 LoadHalves16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// acc + scale · (dot − zero · xsum), unfused, in the oracle's order (bit-exact with it).
HWY_INLINE __m512 AddGroupTerm(__m512 acc, __m512 scale, __m512 zero, __m512 dot, __m512 xsum) {
  return _mm512_add_ps(acc, _mm512_mul_ps(scale, _mm512_sub_ps(dot, _mm512_mul_ps(zero, xsum))));
}

// y[k · y_stride + r] = acc[k][r] · x_scale[k] for the tile's first `rows` rows.
template <int kTok>
HWY_INLINE void StoreTileRows(const __m512* acc, const float* x_scale, float* y, int64_t y_stride,
                              int64_t rows) {
  const __mmask16 lanes = static_cast<__mmask16>((1u << rows) - 1);
#pragma GCC unroll 8
  for (int k = 0; k < kTok; ++k) {
    _mm512_mask_storeu_ps(y + k * y_stride, lanes, _mm512_mul_ps(acc[k], _mm512_set1_ps(x_scale[k])));
  }
}
#endif  // HWY_TARGET == HWY_AVX3_DL

}  // namespace HWY_NAMESPACE
}  // namespace accllm
HWY_AFTER_NAMESPACE();

#endif  // ACCLLM_WORKERS_CPU_VNNI_TILE_INL_H_
