// Random fp16 group scales and zeros for kernel tests, and packing that fails the test on
// error: what the W×A8 kernel tests build their random layers with.
#ifndef ACCLLM_TESTS_SUPPORT_RANDOM_GROUP_PARAMS_H_
#define ACCLLM_TESTS_SUPPORT_RANDOM_GROUP_PARAMS_H_

#include <gtest/gtest.h>

#include <random>
#include <utility>

#include "quant/group_quantizer.h"   // RoundToHalf
#include "quant/quantized_linear.h"  // UnpackedLinear, PackLinear

namespace accllm::testing {

// Appends u.rows · groups scales in [0.001, 0.05) and zeros, fp16-rounded, then packs u.
// Zeros: in [0, max_zero) for ZeroPoint::kFractional; for kInteger (u.format.zero_point)
// integers in 0 .. 2^bits - 1, max_zero unused.
inline QuantizedLinear PackWithRandomParams(UnpackedLinear& u, int64_t groups, float max_zero,
                                            std::mt19937_64& rng) {
  std::uniform_real_distribution<float> scale(0.001f, 0.05f), zero(0.0f, max_zero);
  const bool integer = u.format.zero_point == ZeroPoint::kInteger;
  for (int64_t i = 0; i < u.rows * groups; ++i) {
    u.scales.push_back(RoundToHalf(scale(rng)));
    u.zeros.push_back(integer ? static_cast<float>(rng() % (MaxCode(u.format.bits) + 1))
                              : RoundToHalf(zero(rng)));
  }
  absl::StatusOr<QuantizedLinear> q = PackLinear(u);
  EXPECT_TRUE(q.ok()) << q.status();
  return *std::move(q);
}

}  // namespace accllm::testing

#endif  // ACCLLM_TESTS_SUPPORT_RANDOM_GROUP_PARAMS_H_
