// Compiled once per SIMD target by Highway (foreach_target re-includes this file).
#include "workers/cpu/swiglu.h"

#include <algorithm>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "workers/cpu/swiglu.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"         // HWY_EXPORT, HWY_DYNAMIC_DISPATCH
// After highway.h, so it is re-included per target like this file.
#include "workers/cpu/portable_exp-inl.h"  // PortableExpVec

HWY_BEFORE_NAMESPACE();
namespace accllm {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <class D>
HWY_INLINE hn::Vec<D> SwiGluVec(D df, hn::Vec<D> g, hn::Vec<D> u) {
  return hn::Mul(hn::Div(g, hn::Add(hn::Set(df, 1.0f), PortableExpVec(df, hn::Neg(g)))), u);
}

// The tail goes through a padded vector too: every element gets the same arithmetic wherever
// a caller's split puts it (ForwardBatch splits over threads and must match Forward).
void SwiGlu(float* gate, const float* up, int64_t n) {
  const hn::ScalableTag<float> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    hn::StoreU(SwiGluVec(df, hn::LoadU(df, gate + i), hn::LoadU(df, up + i)), df, gate + i);
  }
  if (i < n) {
    HWY_ALIGN float g[hn::MaxLanes(df)] = {};
    HWY_ALIGN float u[hn::MaxLanes(df)] = {};
    std::copy(gate + i, gate + n, g);
    std::copy(up + i, up + n, u);
    hn::Store(SwiGluVec(df, hn::Load(df, g), hn::Load(df, u)), df, g);
    std::copy(g, g + (n - i), gate + i);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace accllm
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace accllm {

HWY_EXPORT(SwiGlu);

void SwiGluInPlace(float* gate, const float* up, int64_t n) {
  HWY_DYNAMIC_DISPATCH(SwiGlu)(gate, up, n);
}

}  // namespace accllm
#endif  // HWY_ONCE
