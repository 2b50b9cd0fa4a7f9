#include "scheduler/page_pool.h"

#include <set>  // std::set

#include "gtest/gtest.h"  // TEST, EXPECT_*

namespace accllm::scheduler {
namespace {

TEST(PagePoolTest, AllocatesEveryPageOnceThenRefuses) {
  PagePool pool(4, 16);
  EXPECT_EQ(pool.num_free(), 4);
  std::set<int32_t> seen;
  for (int i = 0; i < 4; ++i) {
    absl::StatusOr<int32_t> p = pool.Allocate();
    ASSERT_TRUE(p.ok());
    EXPECT_TRUE(seen.insert(*p).second);
  }
  EXPECT_EQ(pool.num_used(), 4);
  absl::StatusOr<int32_t> none = pool.Allocate();
  EXPECT_EQ(none.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(none.status().message().find("4 pages"), absl::string_view::npos);
}

TEST(PagePoolTest, FreshPoolHandsOutLowestIdsFirst) {
  PagePool pool(3);
  EXPECT_EQ(*pool.Allocate(), 0);
  EXPECT_EQ(*pool.Allocate(), 1);
  EXPECT_EQ(*pool.Allocate(), 2);
}

TEST(PagePoolTest, ReferenceCountedRelease) {
  PagePool pool(2);
  const int32_t p = *pool.Allocate();
  pool.AddRef(p);
  EXPECT_EQ(pool.RefCount(p), 2);
  EXPECT_FALSE(pool.Release(p));  // still shared
  EXPECT_EQ(pool.num_used(), 1);
  EXPECT_TRUE(pool.Release(p));
  EXPECT_EQ(pool.num_used(), 0);
  EXPECT_EQ(pool.RefCount(p), 0);
  // Freed pages are reused.
  EXPECT_EQ(*pool.Allocate(), p);
}

}  // namespace
}  // namespace accllm::scheduler
