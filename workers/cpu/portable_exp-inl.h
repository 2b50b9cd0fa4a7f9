// quant/portable_exp.h's PortableExp, lane by lane, for every Highway target: the same IEEE
// multiplies and adds in the same order, so each lane has the scalar form's bits. Included
// per target after hwy/highway.h (no include guard, as Highway's -inl.h convention wants).
#if defined(ACCLLM_WORKERS_CPU_PORTABLE_EXP_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef ACCLLM_WORKERS_CPU_PORTABLE_EXP_INL_H_
#undef ACCLLM_WORKERS_CPU_PORTABLE_EXP_INL_H_
#else
#define ACCLLM_WORKERS_CPU_PORTABLE_EXP_INL_H_
#endif

#include <limits>

#include "hwy/highway.h"
#include "quant/portable_exp.h"  // the constants and the scalar definition

HWY_BEFORE_NAMESPACE();
namespace accllm {
namespace HWY_NAMESPACE {

template <class D>
HWY_INLINE hwy::HWY_NAMESPACE::Vec<D> PortableExpVec(D df, hwy::HWY_NAMESPACE::Vec<D> x) {
  namespace hn = hwy::HWY_NAMESPACE;
  const hn::RebindToSigned<D> di;
  // Lanes outside [kExpMin, kExpMax] are clamped for the arithmetic and replaced at the end
  // (NaN lanes stay NaN through the arithmetic, as in the scalar form).
  const auto low = hn::Lt(x, hn::Set(df, kExpMin));
  const auto high = hn::Gt(x, hn::Set(df, kExpMax));
  const auto xc = hn::IfThenElse(hn::Or(low, high), hn::Zero(df), x);
  const auto round = hn::Set(df, kExpRound);
  const auto k = hn::Sub(hn::Add(hn::Mul(xc, hn::Set(df, kExpLog2e)), round), round);
  const auto r = hn::Sub(hn::Sub(xc, hn::Mul(k, hn::Set(df, kExpLn2Hi))),
                         hn::Mul(k, hn::Set(df, kExpLn2Lo)));
  auto p = hn::Set(df, kExpP0);
  p = hn::Add(hn::Mul(p, r), hn::Set(df, kExpP1));
  p = hn::Add(hn::Mul(p, r), hn::Set(df, kExpP2));
  p = hn::Add(hn::Mul(p, r), hn::Set(df, kExpP3));
  p = hn::Add(hn::Mul(p, r), hn::Set(df, kExpP4));
  p = hn::Add(hn::Mul(p, r), hn::Set(df, kExpP5));
  const auto y = hn::Add(hn::Add(hn::Mul(p, hn::Mul(r, r)), r), hn::Set(df, 1.0f));
  const auto bits = hn::ShiftLeft<23>(hn::Add(hn::ConvertTo(di, k), hn::Set(di, 127)));
  const auto e = hn::Mul(y, hn::BitCast(df, bits));
  return hn::IfThenElse(high, hn::Set(df, std::numeric_limits<float>::infinity()),
                        hn::IfThenZeroElse(low, e));
}

}  // namespace HWY_NAMESPACE
}  // namespace accllm
HWY_AFTER_NAMESPACE();

#endif  // include guard (per target)
