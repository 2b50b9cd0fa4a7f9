#include "scheduler/lambda_page_table.h"

#include <algorithm>  // std::max
#include <set>        // std::set
#include <string>     // std::to_string
#include <utility>    // std::pair
#include <vector>     // std::vector

#include "gmock/gmock.h"  // ::testing::ElementsAre
#include "gtest/gtest.h"  // TEST, EXPECT_*

namespace accllm::scheduler {
namespace {

using ::testing::ElementsAre;

// Written independently of the table: page l is live after `length` tokens
// iff it holds a token and it is a sink page or some position in it can still
// be read by a query at position ≥ length.
std::set<int64_t> ExpectedLive(const AttentionSpec& spec, int32_t p, int64_t length) {
  std::set<int64_t> live;
  for (int64_t l = 0; l * p < length; ++l) {
    const bool sink = !spec.dense && l * p < spec.sinks;
    const bool in_window = spec.dense || (l + 1) * p - 1 >= length - spec.window + 1;
    if (sink || in_window) live.insert(l);
  }
  return live;
}

std::set<int64_t> Logicals(const LambdaPageTable& table) {
  std::set<int64_t> out;
  for (const PageRef& r : table.LivePages()) out.insert(r.logical);
  return out;
}

struct Case {
  int32_t sinks, window, page;
};

class LambdaPageTableCaseTest : public ::testing::TestWithParam<Case> {};

TEST_P(LambdaPageTableCaseTest, SinksPinnedWindowPagesReleasedExactlyWhenTheyLeave) {
  const Case c = GetParam();
  const AttentionSpec spec = AttentionSpec::Lambda(c.sinks, c.window);
  PagePool pool(256, c.page);
  LambdaPageTable table(spec, c.page);
  const int64_t bound = LambdaPageTable::MaxPagesHeld(spec, c.page);
  std::set<int64_t> before;
  for (int64_t len = 1; len <= 400; ++len) {
    absl::StatusOr<AppendResult> r = table.Append(1, pool);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_LE(table.num_live_pages(), bound) << "decoding, len " << len;
    const std::vector<int64_t> released = table.ReleaseOutOfWindow(pool);
    const std::set<int64_t> now = Logicals(table);
    ASSERT_EQ(now, ExpectedLive(spec, c.page, len)) << "len " << len;
    // Released = exactly the pages that were live and are not any more.
    std::vector<int64_t> gone;
    for (int64_t l : before) {
      if (!now.count(l)) gone.push_back(l);
    }
    EXPECT_EQ(released, gone) << "len " << len;
    for (int64_t l : released) EXPECT_FALSE(table.IsSinkPage(l));
    EXPECT_EQ(pool.num_used(), table.num_live_pages());
    before = now;
  }
  EXPECT_LE(table.max_live_pages(), bound);
  table.ReleaseAll(pool);
  EXPECT_EQ(pool.num_used(), 0);
}

TEST_P(LambdaPageTableCaseTest, ChunksGetEveryPageTheirQueriesRead) {
  const Case c = GetParam();
  const AttentionSpec spec = AttentionSpec::Lambda(c.sinks, c.window);
  PagePool pool(256, c.page);
  LambdaPageTable table(spec, c.page);
  const int64_t bound = LambdaPageTable::MaxPagesHeld(spec, c.page);
  int64_t len = 0;
  for (int i = 0; len < 600; ++i) {
    const int64_t n = 1 + (i * 7) % 37;
    ASSERT_EQ(table.PagesNeededToAppend(n, pool),
              static_cast<int32_t>((len + n + c.page - 1) / c.page - (len + c.page - 1) / c.page));
    const int32_t used_before = pool.num_used();
    absl::StatusOr<AppendResult> r = table.Append(n, pool);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(
        pool.num_used() - used_before,
        table.PagesNeededToAppend(0, pool) +
            static_cast<int32_t>((len + n + c.page - 1) / c.page - (len + c.page - 1) / c.page));
    EXPECT_EQ(r->first_position, len);
    std::set<int64_t> given;
    for (const PageRef& ref : r->pages) given.insert(ref.logical);
    for (int64_t t = len; t < len + n; ++t) {
      for (int64_t p = 0; p <= t; ++p) {
        if (spec.Attends(t, p)) {
          ASSERT_TRUE(given.count(p / c.page)) << "query " << t << " reads " << p;
        }
      }
    }
    // Transiently a chunk holds at most ceil((n-1)/P) pages over the bound.
    EXPECT_LE(table.num_live_pages(), bound + (n - 1 + c.page - 1) / c.page);
    len += n;
    table.ReleaseOutOfWindow(pool);
    EXPECT_LE(table.num_live_pages(), bound);
    ASSERT_EQ(Logicals(table), ExpectedLive(spec, c.page, len));
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, LambdaPageTableCaseTest,
                         ::testing::Values(Case{4, 32, 8}, Case{3, 17, 5}, Case{0, 8, 4},
                                           Case{20, 20, 8}, Case{1, 1, 4}, Case{1, 16, 16}),
                         [](const auto& info) {
                           return "S" + std::to_string(info.param.sinks) + "W" +
                                  std::to_string(info.param.window) + "P" +
                                  std::to_string(info.param.page);
                         });

TEST(LambdaPageTableTest, PagesBoundedOnA100kTokenSequence) {
  const AttentionSpec spec = AttentionSpec::Lambda(4, 1024);  // the defaults
  const int32_t p = 16;
  const int64_t bound = LambdaPageTable::MaxPagesHeld(spec, p);
  EXPECT_EQ(bound, 1 + 64 + 1);
  PagePool pool(200, p);
  // Decoding token by token: never over the bound, even mid-step.
  LambdaPageTable decode(spec, p);
  for (int64_t i = 0; i < 100'000; ++i) {
    ASSERT_TRUE(decode.Append(1, pool).ok());
    ASSERT_LE(decode.num_live_pages(), bound) << i;
    decode.ReleaseOutOfWindow(pool);
  }
  EXPECT_EQ(decode.max_live_pages(), bound);
  EXPECT_EQ(decode.LivePages().front().logical, 0);  // the sink page survived
  decode.ReleaseAll(pool);
  // Prefill in 512-token chunks: within the bound between chunks.
  LambdaPageTable prefill(spec, p);
  for (int64_t i = 0; i < 100'000; i += 512) {
    ASSERT_TRUE(prefill.Append(512, pool).ok());
    prefill.ReleaseOutOfWindow(pool);
    ASSERT_LE(prefill.num_live_pages(), bound) << i;
  }
  EXPECT_EQ(pool.num_used(), prefill.num_live_pages());
  prefill.ReleaseAll(pool);
  EXPECT_EQ(pool.num_used(), 0);
}

TEST(LambdaPageTableTest, DenseKeepsEveryPage) {
  PagePool pool(32, 8);
  LambdaPageTable table(AttentionSpec::Dense(), 8);
  ASSERT_TRUE(table.Append(100, pool).ok());
  EXPECT_TRUE(table.ReleaseOutOfWindow(pool).empty());
  EXPECT_EQ(table.num_live_pages(), 13);
  EXPECT_EQ(LambdaPageTable::PagesToRun(AttentionSpec::Dense(), 8, 100), 13);
  EXPECT_EQ(table.PagePositions(12), (std::pair<int64_t, int64_t>{96, 100}));
  EXPECT_EQ(table.PagePositions(3), (std::pair<int64_t, int64_t>{24, 32}));
}

TEST(LambdaPageTableTest, AppendIsAllOrNothing) {
  PagePool pool(3, 4);
  LambdaPageTable table(AttentionSpec::Dense(), 4);
  ASSERT_TRUE(table.Append(6, pool).ok());  // 2 pages
  EXPECT_EQ(table.MaxAppendable(100, pool.num_free(), pool), 2 + 4);
  absl::StatusOr<AppendResult> r = table.Append(7, pool);  // needs 2, 1 free
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(table.length(), 6);
  EXPECT_EQ(pool.num_used(), 2);
  EXPECT_TRUE(table.Append(6, pool).ok());
}

TEST(LambdaPageTableTest, PrefixSharingRefcountsAndCopyOnWrite) {
  const AttentionSpec spec = AttentionSpec::Lambda(4, 64);
  PagePool pool(16, 8);
  LambdaPageTable a(spec, 8);
  ASSERT_TRUE(a.Append(20, pool).ok());  // pages 0, 1, 2 (2 holds 16..19)
  const std::vector<PageRef> a_pages = a.LivePages();
  LambdaPageTable b(spec, 8);
  ASSERT_TRUE(b.AdoptPrefix(a, 20, pool).ok());
  EXPECT_EQ(b.LivePages(), a_pages);
  EXPECT_EQ(b.length(), 20);
  EXPECT_EQ(pool.num_used(), 3);  // nothing new
  for (const PageRef& r : a_pages) EXPECT_EQ(pool.RefCount(r.physical), 2);

  // B writes position 20 into the shared page 2: copy-on-write.
  EXPECT_EQ(b.PagesNeededToAppend(1, pool), 1);
  absl::StatusOr<AppendResult> w = b.Append(1, pool);
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->copies.size(), 1u);
  EXPECT_EQ(w->copies[0].from, a_pages[2].physical);
  EXPECT_NE(w->copies[0].to, a_pages[2].physical);
  EXPECT_EQ(b.LivePages()[2].physical, w->copies[0].to);
  EXPECT_EQ(pool.RefCount(a_pages[2].physical), 1);  // A's alone now
  EXPECT_EQ(pool.RefCount(a_pages[0].physical), 2);  // full pages stay shared
  // A writes its own page 2 in place: no longer shared.
  absl::StatusOr<AppendResult> wa = a.Append(1, pool);
  ASSERT_TRUE(wa.ok());
  EXPECT_TRUE(wa->copies.empty());

  a.ReleaseAll(pool);
  EXPECT_EQ(pool.RefCount(a_pages[0].physical), 1);  // B still holds it
  EXPECT_EQ(pool.num_used(), 3);
  b.ReleaseAll(pool);
  EXPECT_EQ(pool.num_used(), 0);
}

TEST(LambdaPageTableTest, AdoptionRefusesWhatCannotBeShared) {
  PagePool pool(64, 4);
  LambdaPageTable src(AttentionSpec::Lambda(2, 8), 4);
  ASSERT_TRUE(src.Append(40, pool).ok());
  src.ReleaseOutOfWindow(pool);
  LambdaPageTable other_spec(AttentionSpec::Lambda(2, 16), 4);
  EXPECT_EQ(other_spec.AdoptPrefix(src, 8, pool).code(), absl::StatusCode::kFailedPrecondition);
  LambdaPageTable early(AttentionSpec::Lambda(2, 8), 4);
  absl::Status s = early.AdoptPrefix(src, 16, pool);  // page 2 was released
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_EQ(early.num_live_pages(), 0);
  LambdaPageTable late(AttentionSpec::Lambda(2, 8), 4);
  EXPECT_TRUE(late.AdoptPrefix(src, 40, pool).ok());
  EXPECT_EQ(late.LivePages(), src.LivePages());
  EXPECT_EQ(late.AdoptPrefix(src, 40, pool).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(LambdaPageTable(AttentionSpec::Lambda(2, 8), 4).AdoptPrefix(src, 41, pool).code(),
            absl::StatusCode::kInvalidArgument);
  late.ReleaseAll(pool);
  src.ReleaseAll(pool);
  EXPECT_EQ(pool.num_used(), 0);
}

}  // namespace
}  // namespace accllm::scheduler
