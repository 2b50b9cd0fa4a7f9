#include "workers/cpu/float_attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "hwy/targets.h"                     // hwy::SetSupportedTargetsForTest, hwy::TargetName
#include "tests/workers/cpu/simd_targets.h"  // SimdTargetsToTest

namespace accllm {
namespace {

using ::accllm::testing::SimdTargetsToTest;

struct Case {
  int32_t group, head_dim;
  int64_t n;
};

// Against a float64 softmax attention on every target: head sizes below, at and past a
// vector (tails), one key and many, GQA groups of 1 and 4, K/V rows read at an offset.
TEST(FloatAttentionTest, MatchesFloat64OracleOnEveryTarget) {
  for (const Case& c : {Case{1, 8, 1}, Case{4, 64, 37}, Case{2, 20, 300}, Case{4, 128, 5}}) {
    std::mt19937_64 rng(c.head_dim * 100 + c.n);
    std::normal_distribution<float> g(0.0f, 1.0f);
    const int64_t offset = 3;  // the KV head's columns within a wider row
    const int64_t width = offset + c.head_dim + 2;
    std::vector<float> q(c.group * c.head_dim), k(c.n * width), v(c.n * width);
    for (float& x : q) x = g(rng);
    for (float& x : k) x = g(rng);
    for (float& x : v) x = g(rng);
    std::vector<const float*> keys(c.n), values(c.n);
    for (int64_t i = 0; i < c.n; ++i) {
      keys[i] = k.data() + i * width;
      values[i] = v.data() + i * width;
    }
    const float scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
    std::vector<double> expected(c.group * c.head_dim, 0.0);
    for (int32_t h = 0; h < c.group; ++h) {
      std::vector<double> s(c.n);
      double max = -INFINITY, sum = 0;
      for (int64_t i = 0; i < c.n; ++i) {
        for (int32_t d = 0; d < c.head_dim; ++d) {
          s[i] += double{q[h * c.head_dim + d]} * keys[i][offset + d];
        }
        s[i] *= scale;
        max = std::max(max, s[i]);
      }
      for (double& x : s) sum += (x = std::exp(x - max));
      for (int64_t i = 0; i < c.n; ++i) {
        for (int32_t d = 0; d < c.head_dim; ++d) {
          expected[h * c.head_dim + d] += s[i] / sum * values[i][offset + d];
        }
      }
    }
    for (int64_t target : SimdTargetsToTest()) {
      hwy::SetSupportedTargetsForTest(target);
      std::vector<float> scores(c.group * c.n), out(c.group * c.head_dim, NAN);
      FloatAttendGroup(q.data(), c.group, c.head_dim, keys.data(), values.data(), offset, c.n,
                       scale, scores.data(), out.data());
      for (size_t j = 0; j < out.size(); ++j) {
        // Weights sum to 1 and values are O(1): a few float roundings each.
        ASSERT_NEAR(out[j], expected[j], 2e-5)
            << hwy::TargetName(target) << " group " << c.group << " head_dim " << c.head_dim
            << " n " << c.n << " output " << j;
      }
      // Deterministic: a second call gives the same bits.
      std::vector<float> again(out.size());
      FloatAttendGroup(q.data(), c.group, c.head_dim, keys.data(), values.data(), offset, c.n,
                       scale, scores.data(), again.data());
      EXPECT_EQ(std::memcmp(out.data(), again.data(), out.size() * sizeof(float)), 0);
    }
    hwy::SetSupportedTargetsForTest(0);
  }
}

}  // namespace
}  // namespace accllm
