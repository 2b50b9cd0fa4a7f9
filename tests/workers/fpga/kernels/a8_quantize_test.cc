#include "workers/fpga/kernels/a8_quantize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "quant/a8.h"  // QuantizeA8

namespace accllm::fpga {
namespace {

void ExpectSameAsOracle(const std::vector<float>& x) {
  const A8Vector want = QuantizeA8(x);
  std::vector<int8_t> q(x.size(), 99);
  float scale = -1.0f;
  QuantizeA8Row(x.data(), static_cast<int32_t>(x.size()), q.data(), &scale);
  EXPECT_EQ(std::memcmp(&scale, &want.scale, sizeof(float)), 0) << scale << " vs " << want.scale;
  EXPECT_EQ(q, want.values);
}

TEST(A8QuantizeTest, RandomTokensMatchQuantizeA8) {
  std::mt19937 rng(1);
  for (int trial = 0; trial < 300; ++trial) {
    const size_t n = 1 + rng() % 700;
    const float stddev = std::ldexp(1.0f, static_cast<int>(rng() % 40) - 20);
    std::normal_distribution<float> dist(0.0f, stddev);
    std::vector<float> x(n);
    for (float& v : x) v = dist(rng);
    if (trial % 3 == 0) x[rng() % n] *= 50.0f;  // an outlier channel
    ExpectSameAsOracle(x);
  }
}

TEST(A8QuantizeTest, AllZeroTokenHasScaleZero) {
  ExpectSameAsOracle(std::vector<float>(37, 0.0f));
  ExpectSameAsOracle({0.0f, -0.0f, 0.0f});
  ExpectSameAsOracle({});
}

TEST(A8QuantizeTest, TiesRoundToEven) {
  // max_abs 127: the reciprocal is exactly 1, so x * inv are these halves.
  ExpectSameAsOracle({127.0f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 126.5f, -126.5f, 3.5f});
  std::vector<int8_t> out(10);
  float scale = 0.0f;
  const float x[] = {127.0f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 126.5f, -126.5f, 3.5f};
  QuantizeA8Row(x, 10, out.data(), &scale);
  EXPECT_EQ(out, (std::vector<int8_t>{127, 0, 2, 2, 0, -2, -2, 126, -126, 4}));
}

TEST(A8QuantizeTest, EdgeMagnitudes) {
  const float tiny = std::numeric_limits<float>::denorm_min();
  ExpectSameAsOracle({tiny, -tiny});  // 127 / max_abs is inf: every value saturates
  ExpectSameAsOracle({std::numeric_limits<float>::min(), 1e-40f, -3e-39f});
  ExpectSameAsOracle({std::numeric_limits<float>::max(), -1.0f, 1e30f});
  ExpectSameAsOracle({-5.0f, 5.0f, -4.99f, 0.01f});  // negative and positive maxima
  ExpectSameAsOracle({-7.0f});
}

}  // namespace
}  // namespace accllm::fpga
