#include "workers/cpu/float_gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "hwy/targets.h"                     // hwy::SetSupportedTargetsForTest, hwy::TargetName
#include "model/dtype.h"                     // FloatToHalf, HalfToFloat, FloatToBF16, BF16ToFloat
#include "tests/workers/cpu/simd_targets.h"  // SimdTargetsToTest

namespace accllm {
namespace {

using ::accllm::testing::SimdTargetsToTest;

// W in one storage type, with the exact float value of every element.
struct Weights {
  FloatWeightType type;
  std::vector<float> f32;      // kF32 storage
  std::vector<uint16_t> bits;  // kF16 / kBF16 storage
  std::vector<float> value;    // what each element is worth
  const void* data() const {
    return type == FloatWeightType::kF32 ? static_cast<const void*>(f32.data())
                                         : static_cast<const void*>(bits.data());
  }
};

Weights MakeWeights(FloatWeightType type, int64_t rows, int64_t cols, std::mt19937_64& rng) {
  std::normal_distribution<float> g(0.0f, 0.5f);
  Weights w;
  w.type = type;
  w.value.resize(rows * cols);
  for (float& v : w.value) {
    v = g(rng);
    if (type == FloatWeightType::kF16) {
      w.bits.push_back(FloatToHalf(v));
      v = HalfToFloat(w.bits.back());
    } else if (type == FloatWeightType::kBF16) {
      w.bits.push_back(FloatToBF16(v));
      v = BF16ToFloat(w.bits.back());
    }
  }
  if (type == FloatWeightType::kF32) w.f32 = w.value;
  return w;
}

std::vector<float> RandomX(int64_t n, int64_t cols, std::mt19937_64& rng) {
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> x(n * cols);
  for (float& v : x) v = g(rng);
  return x;
}

const char* TypeName(FloatWeightType t) {
  return t == FloatWeightType::kF32 ? "F32" : t == FloatWeightType::kF16 ? "F16" : "BF16";
}

struct Case {
  int64_t rows, cols, n;
};
// Ragged rows (not a multiple of 4 or of the 16-row tile), ragged columns (a tail shorter than
// any vector), token counts around the 4-token tile and past the 64-token block.
constexpr Case kCases[] = {{37, 70, 1}, {16, 64, 4}, {5, 3, 7}, {40, 130, 9}, {64, 512, 70}};
constexpr FloatWeightType kTypes[] = {FloatWeightType::kF32, FloatWeightType::kF16,
                                      FloatWeightType::kBF16};

// Each output within float rounding of a float64 dot of the same (exactly widened) weights:
// |y − Σ w·x| ≤ 1e-5 · Σ |w·x|, far tighter than any wrong element or lost term would allow.
TEST(FloatGemmTest, MatchesFloat64OracleOnEveryTarget) {
  ThreadPool pool(2);
  for (const Case& c : kCases) {
    for (FloatWeightType type : kTypes) {
      std::mt19937_64 rng(c.rows * 1000 + c.cols);
      const Weights w = MakeWeights(type, c.rows, c.cols, rng);
      const std::vector<float> x = RandomX(c.n, c.cols, rng);
      for (int64_t target : SimdTargetsToTest()) {
        hwy::SetSupportedTargetsForTest(target);
        std::vector<float> y(c.n * c.rows, NAN);
        const FloatGemmJob job{.type = type, .w = w.data(), .rows = c.rows, .y = y.data()};
        FloatGemm({&job, 1}, x.data(), c.n, c.cols, &pool);
        for (int64_t t = 0; t < c.n; ++t) {
          for (int64_t r = 0; r < c.rows; ++r) {
            double sum = 0, mag = 0;
            for (int64_t k = 0; k < c.cols; ++k) {
              const double p = double{w.value[r * c.cols + k]} * x[t * c.cols + k];
              sum += p;
              mag += std::abs(p);
            }
            ASSERT_NEAR(y[t * c.rows + r], sum, 1e-5 * mag + 1e-30)
                << hwy::TargetName(target) << " " << TypeName(type) << " " << c.rows << "x"
                << c.cols << " n " << c.n << " token " << t << " row " << r;
          }
        }
      }
      hwy::SetSupportedTargetsForTest(0);
    }
  }
}

// The Linear::ApplyBatch contract: token t of a batched call (threads, several jobs) has the
// bits of the single-token call on x_t alone, one thread, one job.
TEST(FloatGemmTest, BatchEqualsSingleTokenBitForBit) {
  ThreadPool pool(2);
  for (const Case& c : kCases) {
    for (FloatWeightType type : kTypes) {
      std::mt19937_64 rng(c.rows * 7 + c.cols);
      const Weights w = MakeWeights(type, c.rows, c.cols, rng);
      const Weights w2 = MakeWeights(type, c.rows + 3, c.cols, rng);
      const std::vector<float> x = RandomX(c.n, c.cols, rng);
      for (int64_t target : SimdTargetsToTest()) {
        hwy::SetSupportedTargetsForTest(target);
        std::vector<float> y(c.n * c.rows), y2(c.n * (c.rows + 3));
        const FloatGemmJob jobs[] = {
            {.type = type, .w = w.data(), .rows = c.rows, .y = y.data()},
            {.type = type, .w = w2.data(), .rows = c.rows + 3, .y = y2.data()}};
        FloatGemm(jobs, x.data(), c.n, c.cols, &pool);
        for (int64_t t = 0; t < c.n; ++t) {
          std::vector<float> one(c.rows);
          const FloatGemmJob job{.type = type, .w = w.data(), .rows = c.rows, .y = one.data()};
          FloatGemm({&job, 1}, x.data() + t * c.cols, 1, c.cols, nullptr);
          EXPECT_EQ(std::memcmp(one.data(), y.data() + t * c.rows, one.size() * sizeof(float)), 0)
              << hwy::TargetName(target) << " " << TypeName(type) << " " << c.rows << "x" << c.cols
              << " n " << c.n << " token " << t;
        }
      }
      hwy::SetSupportedTargetsForTest(0);
    }
  }
}

}  // namespace
}  // namespace accllm
