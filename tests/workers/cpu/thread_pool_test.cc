#include "workers/cpu/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace accllm {
namespace {

TEST(ThreadPoolTest, CoversEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int64_t n : {1, 2, 7, 64, 1000, 4097}) {
      for (int64_t grain : {1, 4, 16}) {
        std::vector<std::atomic<int>> hits(n);
        pool.ParallelFor(
            n,
            [&](int64_t b, int64_t e, int) {
              if (b % grain != 0) ADD_FAILURE() << "range start " << b << " not aligned to " << grain;
              for (int64_t i = b; i < e; ++i) hits[i].fetch_add(1);
            },
            grain);
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << n << " " << i;
      }
    }
  }
}

TEST(ThreadPoolTest, ManyQuickCallsInARow) {
  ThreadPool pool(2);
  std::atomic<int64_t> sum{0};
  for (int call = 0; call < 2000; ++call) {
    pool.ParallelFor(8, [&](int64_t b, int64_t e, int) { sum.fetch_add(e - b); });
  }
  EXPECT_EQ(sum.load(), 8 * 2000);
}

TEST(ThreadPoolTest, ThreadIndexIsDistinctPerRange) {
  ThreadPool pool(4);
  std::vector<std::atomic<int>> per_thread(4);
  pool.ParallelFor(400, [&](int64_t, int64_t, int t) { per_thread[t].fetch_add(1); });
  for (auto& c : per_thread) EXPECT_EQ(c.load(), 1);
}

TEST(ThreadPoolTest, DynamicCoversEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int64_t n : {1, 7, 64, 1001}) {
      for (int64_t chunk : {1, 5, 64}) {
        std::vector<std::atomic<int>> hits(n);
        pool.ParallelForDynamic(
            n,
            [&](int64_t b, int64_t e, int t) {
              if (t < 0 || t >= threads) ADD_FAILURE() << "thread index " << t;
              for (int64_t i = b; i < e; ++i) hits[i].fetch_add(1);
            },
            chunk);
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << n << " " << i;
      }
    }
  }
}

TEST(ThreadPoolTest, EmptyRangeDoesNothing) {
  ThreadPool pool(2);
  bool called = false;
  pool.ParallelFor(0, [&](int64_t, int64_t, int) { called = true; });
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace accllm
