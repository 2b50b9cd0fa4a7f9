// The SIMD softmax and SwiGLU against quant/portable_exp.h's scalar definitions, bit for bit
// on every target this machine has (the FPGA kernels compute the scalar forms).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "hwy/targets.h"                     // hwy::SetSupportedTargetsForTest, hwy::TargetName
#include "quant/portable_exp.h"
#include "tests/workers/cpu/simd_targets.h"  // SimdTargetsToTest
#include "workers/cpu/kv4_attention.h"       // SoftmaxInPlace
#include "workers/cpu/swiglu.h"              // SwiGluInPlace

namespace accllm {
namespace {

using ::accllm::testing::SimdTargetsToTest;

uint32_t Bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

TEST(PortableExpTest, SoftmaxEqualsTheScalarDefinitionOnEveryTarget) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 6.0f);
  for (int64_t n : {1, 3, 7, 8, 9, 16, 17, 31, 100, 1029}) {
    std::vector<float> scores(n);
    for (float& v : scores) v = normal(rng);
    if (n > 3) scores[2] = -200.0f;  // an exp that underflows to 0
    std::vector<float> expected = scores;
    PortableSoftmaxInPlace(expected.data(), n);
    for (int64_t target : SimdTargetsToTest()) {
      hwy::SetSupportedTargetsForTest(target);
      std::vector<float> got = scores;
      SoftmaxInPlace(got.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        ASSERT_EQ(Bits(got[i]), Bits(expected[i])) << hwy::TargetName(target) << " n " << n
                                                   << " i " << i;
      }
    }
    hwy::SetSupportedTargetsForTest(0);
  }
}

TEST(PortableExpTest, SwiGluEqualsTheScalarDefinitionOnEveryTarget) {
  std::mt19937 rng(4);
  std::normal_distribution<float> normal(0.0f, 8.0f);
  const int64_t n = 1000;
  std::vector<float> gate(n), up(n);
  for (int64_t i = 0; i < n; ++i) {
    gate[i] = normal(rng);
    up[i] = normal(rng);
  }
  gate[0] = 120.0f;   // e^-g underflows
  gate[1] = -120.0f;  // e^-g overflows: silu(g) = -0
  for (int64_t target : SimdTargetsToTest()) {
    hwy::SetSupportedTargetsForTest(target);
    std::vector<float> got = gate;
    SwiGluInPlace(got.data(), up.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(Bits(got[i]), Bits(PortableSwiGlu(gate[i], up[i])))
          << hwy::TargetName(target) << " i " << i << " g " << gate[i];
    }
  }
  hwy::SetSupportedTargetsForTest(0);
}

TEST(PortableExpTest, ExpIsWithinTwoUlpOfTheTrueValue) {
  for (float x = -87.0f; x <= 88.0f; x += 0.0137f) {
    const double truth = std::exp(static_cast<double>(x));
    const float got = PortableExp(x);
    const double ulp = std::ldexp(1.0, std::ilogb(truth) - 23);
    ASSERT_LE(std::fabs(got - truth), 2 * ulp) << x;
  }
  EXPECT_EQ(PortableExp(0.0f), 1.0f);
  EXPECT_EQ(PortableExp(-100.0f), 0.0f);
  EXPECT_EQ(PortableExp(100.0f), std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(PortableExp(std::nanf(""))));
}

}  // namespace
}  // namespace accllm
