#include "client/lib/percentile.h"

#include <gtest/gtest.h>

#include <cmath>

namespace accllm::client {
namespace {

TEST(PercentileTest, InterpolatesBetweenRanks) {
  std::vector<double> v = {4, 1, 3, 2};  // unsorted on purpose
  EXPECT_DOUBLE_EQ(Percentile(v, 0), 1);
  EXPECT_DOUBLE_EQ(Percentile(v, 100), 4);
  EXPECT_DOUBLE_EQ(Percentile(v, 50), 2.5);
  EXPECT_DOUBLE_EQ(Percentile(v, 90), 3.7);  // rank 0.9 * 3 = 2.7
}

TEST(PercentileTest, MatchesNumpyOnOneToHundred) {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(i);
  EXPECT_DOUBLE_EQ(Percentile(v, 50), 50.5);
  EXPECT_DOUBLE_EQ(Percentile(v, 90), 90.1);
  EXPECT_DOUBLE_EQ(Percentile(v, 99), 99.01);
}

TEST(PercentileTest, SingleValueAndEmpty) {
  std::vector<double> one = {0.25};
  EXPECT_DOUBLE_EQ(Percentile(one, 99), 0.25);
  std::vector<double> none;
  EXPECT_TRUE(std::isnan(Percentile(none, 50)));
}

TEST(PercentileTest, ClampsOutOfRangeP) {
  std::vector<double> v = {1, 2, 3};
  EXPECT_DOUBLE_EQ(Percentile(v, -5), 1);
  EXPECT_DOUBLE_EQ(Percentile(v, 150), 3);
}

}  // namespace
}  // namespace accllm::client
