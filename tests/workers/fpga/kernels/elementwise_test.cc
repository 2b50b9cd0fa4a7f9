#include "model/rope.h"  // Rope
#include "workers/fpga/kernels/elementwise.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace accllm::fpga {
namespace {

TEST(ElementwiseTest, RmsNormIsTheEngineFormula) {
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.0f, 2.0f);
  for (int32_t n : {1, 7, 64, 300}) {
    std::vector<float> x(n), w(n), out(n);
    for (float& v : x) v = nd(rng);
    for (float& v : w) v = nd(rng);
    const float eps = 1e-5f;
    RmsNormRow(x.data(), w.data(), n, eps, out.data());
    float ss = 0.0f;  // llama_model.cc's RmsNorm, restated
    for (float v : x) ss += v * v;
    const float scale = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
    double ss_d = 0.0;
    for (float v : x) ss_d += double(v) * v;
    for (int32_t i = 0; i < n; ++i) {
      EXPECT_EQ(out[i], w[i] * (scale * x[i]));
      EXPECT_NEAR(out[i], w[i] * x[i] / std::sqrt(ss_d / n + eps), 1e-5 * (1 + std::fabs(out[i])));
    }
  }
}

TEST(ElementwiseTest, RopeMatchesDoubleAngles) {
  std::mt19937 rng(2);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  const int32_t hd = 64, heads = 3;
  for (int64_t pos : {int64_t{0}, int64_t{1}, int64_t{17}, int64_t{4095}, int64_t{1000003}}) {
    std::vector<float> row(hd), v(heads * hd);
    Rope(hd, 10000.0).Row(pos, row.data());
    for (float& x : v) x = nd(rng);
    const std::vector<float> orig = v;
    RopeApply(v.data(), heads, hd, row.data());
    for (int32_t h = 0; h < heads; ++h) {
      for (int32_t j = 0; j < hd / 2; ++j) {
        const double angle = double(pos) * std::pow(10000.0, -2.0 * j / hd);
        const double a = orig[h * hd + j], b = orig[h * hd + j + hd / 2];
        EXPECT_NEAR(v[h * hd + j], a * std::cos(angle) - b * std::sin(angle), 1e-5);
        EXPECT_NEAR(v[h * hd + j + hd / 2], a * std::sin(angle) + b * std::cos(angle), 1e-5);
        // Bit for bit Rope::Rotate given the float row.
        const float c = row[j], s = row[hd / 2 + j];
        const float fa = orig[h * hd + j], fb = orig[h * hd + j + hd / 2];
        EXPECT_EQ(v[h * hd + j], fa * c - fb * s);
        EXPECT_EQ(v[h * hd + j + hd / 2], fa * s + fb * c);
      }
    }
  }
}

TEST(ElementwiseTest, SwiGluWithinTolerance) {
  std::mt19937 rng(3);
  std::normal_distribution<float> nd(0.0f, 4.0f);
  const int64_t n = 1000;
  std::vector<float> g(n), u(n);
  for (float& x : g) x = nd(rng);
  for (float& x : u) x = nd(rng);
  g[0] = -100.0f;  // exp overflow side: silu -> -0
  g[1] = 100.0f;
  std::vector<float> out = g;
  SwiGluRow(out.data(), u.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    const double want = double(g[i]) / (1.0 + std::exp(-double(g[i]))) * u[i];
    EXPECT_NEAR(out[i], want, 1e-6 * (1.0 + std::fabs(want))) << i;
  }
}

}  // namespace
}  // namespace accllm::fpga
