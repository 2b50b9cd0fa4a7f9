#include "workers/backend/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

namespace accllm {
namespace {

TEST(SamplerTest, TemperatureZeroIsArgmax) {
  Sampler sampler({.temperature = 0.0f});
  const std::vector<float> logits = {0.1f, 2.0f, -1.0f, 1.9f};
  for (int i = 0; i < 10; ++i) EXPECT_EQ(sampler.Sample(logits), 1);
}

TEST(SamplerTest, ArgmaxTakesLowestIdAmongTies) {
  EXPECT_EQ(Argmax(std::vector<float>{1.0f, 3.0f, 3.0f}), 1);
}

TEST(SamplerTest, SameSeedSameTokensDifferentSeedDifferentTokens) {
  std::vector<float> logits(100);
  for (int i = 0; i < 100; ++i) logits[i] = std::sin(i * 0.7f);
  auto draw = [&](uint64_t seed) {
    Sampler s({.temperature = 1.0f, .seed = seed});
    std::vector<int32_t> out;
    for (int i = 0; i < 50; ++i) out.push_back(s.Sample(logits));
    return out;
  };
  EXPECT_EQ(draw(5), draw(5));
  EXPECT_NE(draw(5), draw(6));
}

TEST(SamplerTest, TopKOneAndTinyTopPAreGreedy) {
  const std::vector<float> logits = {0.5f, 0.2f, 3.0f, 2.9f};
  Sampler k1({.temperature = 1.0f, .top_k = 1, .seed = 1});
  Sampler p0({.temperature = 1.0f, .top_p = 1e-6f, .seed = 1});
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(k1.Sample(logits), 2);
    EXPECT_EQ(p0.Sample(logits), 2);
  }
}

TEST(SamplerTest, TopKNeverLeavesTheTopK) {
  const std::vector<float> logits = {1.0f, 5.0f, 4.0f, 0.0f, 4.5f};
  Sampler s({.temperature = 10.0f, .top_k = 2, .seed = 3});
  for (int i = 0; i < 200; ++i) {
    const int32_t t = s.Sample(logits);
    EXPECT_TRUE(t == 1 || t == 4) << t;
  }
}

TEST(SamplerTest, FrequenciesFollowSoftmax) {
  const std::vector<float> logits = {0.0f, std::log(2.0f), std::log(7.0f)};  // p = 0.1, 0.2, 0.7
  Sampler s({.temperature = 1.0f, .seed = 11});
  std::map<int32_t, int> counts;
  const int n = 20000;
  for (int i = 0; i < n; ++i) ++counts[s.Sample(logits)];
  EXPECT_NEAR(counts[0] / double(n), 0.1, 0.015);
  EXPECT_NEAR(counts[1] / double(n), 0.2, 0.015);
  EXPECT_NEAR(counts[2] / double(n), 0.7, 0.015);
}

TEST(SamplerTest, ValidationNamesTheField) {
  EXPECT_NE(ValidateSamplingParams({.temperature = -1.0f}).message().find("temperature"),
            std::string::npos);
  EXPECT_NE(ValidateSamplingParams({.top_k = -2}).message().find("top_k"), std::string::npos);
  EXPECT_NE(ValidateSamplingParams({.top_p = 0.0f}).message().find("top_p"), std::string::npos);
  EXPECT_NE(ValidateSamplingParams({.top_p = NAN}).message().find("top_p"), std::string::npos);
  EXPECT_TRUE(ValidateSamplingParams({}).ok());
}

}  // namespace
}  // namespace accllm
