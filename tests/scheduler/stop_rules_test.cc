#include "scheduler/stop_rules.h"

#include <vector>  // std::vector

#include "gmock/gmock.h"  // ::testing::ElementsAre, IsEmpty
#include "gtest/gtest.h"  // TEST, EXPECT_*

namespace accllm::scheduler {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Feeds tokens; returns everything emitted and the finish reason.
std::vector<int32_t> Feed(StopRules& rules, const std::vector<int32_t>& tokens,
                          std::optional<FinishReason>* finish) {
  std::vector<int32_t> out;
  for (int32_t t : tokens) {
    StopRules::Outcome o = rules.OnToken(t);
    out.insert(out.end(), o.emit.begin(), o.emit.end());
    if (o.finish) {
      *finish = o.finish;
      break;
    }
  }
  return out;
}

TEST(StopRulesTest, MaxTokensEmitsEverything) {
  StopRules rules(3, {}, {});
  std::optional<FinishReason> finish;
  EXPECT_THAT(Feed(rules, {5, 6, 7, 8}, &finish), ElementsAre(5, 6, 7));
  EXPECT_EQ(finish, FinishReason::kLength);
}

TEST(StopRulesTest, StopTokenIsNotEmitted) {
  StopRules rules(10, {9}, {});
  std::optional<FinishReason> finish;
  EXPECT_THAT(Feed(rules, {1, 2, 9, 3}, &finish), ElementsAre(1, 2));
  EXPECT_EQ(finish, FinishReason::kStop);
  EXPECT_EQ(rules.num_generated(), 3);
}

TEST(StopRulesTest, StopSequenceTokensAreHeldBackThenDropped) {
  StopRules rules(10, {}, {{7, 8, 9}});
  StopRules::Outcome a = rules.OnToken(1);
  EXPECT_THAT(a.emit, ElementsAre(1));
  StopRules::Outcome b = rules.OnToken(7);
  EXPECT_THAT(b.emit, IsEmpty());  // could start the stop sequence
  StopRules::Outcome c = rules.OnToken(8);
  EXPECT_THAT(c.emit, IsEmpty());
  StopRules::Outcome d = rules.OnToken(9);
  EXPECT_THAT(d.emit, IsEmpty());
  EXPECT_EQ(d.finish, FinishReason::kStop);
  EXPECT_EQ(rules.num_emitted(), 1);
}

TEST(StopRulesTest, FalseStartIsReleased) {
  StopRules rules(10, {}, {{7, 8, 9}});
  std::optional<FinishReason> finish;
  EXPECT_THAT(Feed(rules, {7, 8, 1}, &finish), ElementsAre(7, 8, 1));
  EXPECT_FALSE(finish.has_value());
}

TEST(StopRulesTest, OverlappingStartKeepsOnlyThePossiblePrefix) {
  StopRules rules(10, {}, {{1, 1, 2}});
  std::optional<FinishReason> finish;
  EXPECT_THAT(Feed(rules, {1, 1, 1, 2}, &finish), ElementsAre(1));
  EXPECT_EQ(finish, FinishReason::kStop);
}

TEST(StopRulesTest, HeldTokensFlushAtMaxTokens) {
  StopRules rules(2, {}, {{4, 5}});
  std::optional<FinishReason> finish;
  EXPECT_THAT(Feed(rules, {3, 4}, &finish), ElementsAre(3, 4));
  EXPECT_EQ(finish, FinishReason::kLength);
}

TEST(StopRulesTest, FlushReleasesHeldTokens) {
  StopRules rules(10, {}, {{4, 5}});
  std::optional<FinishReason> finish;
  EXPECT_THAT(Feed(rules, {3, 4}, &finish), ElementsAre(3));
  EXPECT_THAT(rules.Flush(), ElementsAre(4));
  EXPECT_EQ(rules.num_emitted(), 2);
}

TEST(StopRulesTest, LongestCompletedStopSequenceWins) {
  StopRules rules(10, {}, {{6}, {5, 6}});
  std::optional<FinishReason> finish;
  EXPECT_THAT(Feed(rules, {1, 5, 6}, &finish), ElementsAre(1));
  EXPECT_EQ(finish, FinishReason::kStop);
}

}  // namespace
}  // namespace accllm::scheduler
