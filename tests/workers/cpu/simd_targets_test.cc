#include "tests/workers/cpu/simd_targets.h"

#include <gtest/gtest-spi.h>  // EXPECT_NONFATAL_FAILURE
#include <gtest/gtest.h>

#include <algorithm>  // std::find
#include <iostream>

#include "hwy/targets.h"          // hwy::DisableTargets, hwy::SetSupportedTargetsForTest
#include "workers/cpu/gemm_a8.h"  // GemvTargetName

namespace accllm {
namespace {

using ::accllm::testing::RequiredSimdTargets;
using ::accllm::testing::SimdTargetNames;
using ::accllm::testing::SimdTargetsToTest;

TEST(SimdTargetsTest, EveryTargetThisCpuHasIsTested) {
  const std::vector<int64_t> required = RequiredSimdTargets();
  const std::vector<int64_t> tested = SimdTargetsToTest();  // fails for each one missing
  // In the log, so a run shows which targets the kernel tests covered on this machine.
  std::cout << "required: " << SimdTargetNames(required)
            << "\ntested:   " << SimdTargetNames(tested) << "\n";
#if defined(__x86_64__) || (defined(__aarch64__) && defined(__linux__))
  // Every such CPU has at least AVX2 or NEON: an empty list means the detection itself broke.
  EXPECT_FALSE(required.empty());
#endif
}

// The check must be able to fail: hide the best target this CPU needs from Highway, as a build
// that stopped generating it would, and the helper must say which one is missing.
TEST(SimdTargetsTest, AMissingTargetFailsNamingIt) {
  const std::vector<int64_t> required = RequiredSimdTargets();
  if (required.empty()) GTEST_SKIP() << "no SIMD target is required on this CPU";
  const int64_t best = required.front();
  hwy::DisableTargets(best);
  EXPECT_NONFATAL_FAILURE(SimdTargetsToTest(), std::string(hwy::TargetName(best)) + " too");
  hwy::DisableTargets(0);
  const std::vector<int64_t> tested = SimdTargetsToTest();
  EXPECT_NE(std::find(tested.begin(), tested.end(), best), tested.end());
}

// The tests and the kernels are separate translation units, each with its own HWY_TARGETS: if
// the kernels were built for fewer targets than the tests (a Highway define that is not PUBLIC),
// mocking a target would quietly run the next one down. GemvTargetName reports the target the
// kernels' own dispatch table chose.
TEST(SimdTargetsTest, KernelsDispatchToEachTestedTarget) {
  for (int64_t target : SimdTargetsToTest()) {
    hwy::SetSupportedTargetsForTest(target);
    EXPECT_EQ(GemvTargetName(), hwy::TargetName(target));
  }
  hwy::SetSupportedTargetsForTest(0);
}

}  // namespace
}  // namespace accllm
