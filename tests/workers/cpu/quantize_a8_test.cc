#include "workers/cpu/quantize_a8.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "hwy/targets.h"  // hwy::SetSupportedTargetsForTest, hwy::TargetName
#include "quant/a8.h"     // QuantizeA8
#include "tests/workers/cpu/simd_targets.h"  // SimdTargetsToTest

namespace accllm {
namespace {

using ::accllm::testing::SimdTargetsToTest;

// Bit for bit QuantizeA8 on every target: ragged lengths, exact .5 ties, an all-zero row.
TEST(QuantizeA8RowTest, EqualsQuantizeA8OnEveryTarget) {
  std::mt19937_64 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<std::vector<float>> rows;
  for (int64_t n : {1, 7, 64, 173, 2048}) {
    std::vector<float> x(n);
    for (float& v : x) v = normal(rng);
    rows.push_back(x);
  }
  std::vector<float> ties = {127.0f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -126.5f, 3.5f, 4.5f};
  rows.push_back(ties);  // max 127: inv = 1, so the halves are exact ties
  rows.push_back(std::vector<float>(19, 0.0f));
  for (int64_t target : SimdTargetsToTest()) {
    hwy::SetSupportedTargetsForTest(target);
    for (const std::vector<float>& x : rows) {
      const A8Vector expected = QuantizeA8(x);
      std::vector<int8_t> out(x.size(), 99);
      const float scale = QuantizeA8Row(x.data(), static_cast<int64_t>(x.size()), out.data());
      EXPECT_EQ(scale, expected.scale) << hwy::TargetName(target);
      EXPECT_EQ(out, expected.values) << hwy::TargetName(target) << " n " << x.size();
    }
  }
  hwy::SetSupportedTargetsForTest(0);
}

}  // namespace
}  // namespace accllm
