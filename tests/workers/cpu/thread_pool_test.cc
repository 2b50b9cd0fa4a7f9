#include "workers/cpu/thread_pool.h"

#include <gtest/gtest.h>

#include <time.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>
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

TEST(ThreadPoolTest, StaticPartIndexNamesItsRange) {
  // Parts are claimed, not assigned to threads: the index is the part's number
  // (what per-part scratch is keyed by), whichever thread runs it.
  for (int threads : {2, 3, 4}) {
    ThreadPool pool(threads);
    for (int call = 0; call < 200; ++call) {
      const int64_t n = 101, grain = 4, blocks = (n + grain - 1) / grain;
      std::vector<std::atomic<int>> seen(threads);
      pool.ParallelFor(
          n,
          [&](int64_t b, int64_t e, int part) {
            ASSERT_GE(part, 0);
            ASSERT_LT(part, threads);
            EXPECT_EQ(b, std::min(n, blocks * part / threads * grain));
            EXPECT_EQ(e, std::min(n, blocks * (part + 1) / threads * grain));
            seen[part].fetch_add(1);
          },
          grain);
      for (auto& s : seen) ASSERT_EQ(s.load(), 1);
    }
  }
}

TEST(ThreadPoolTest, DynamicSlotsAreNeverSharedAtOnce) {
  ThreadPool pool(3);
  std::vector<std::atomic<bool>> busy(3);
  for (int call = 0; call < 300; ++call) {
    pool.ParallelForDynamic(
        64,
        [&](int64_t, int64_t, int slot) {
          ASSERT_GE(slot, 0);
          ASSERT_LT(slot, 3);
          EXPECT_FALSE(busy[slot].exchange(true)) << "slot " << slot << " used twice at once";
          const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(2);
          while (std::chrono::steady_clock::now() < until) {
          }
          busy[slot] = false;
        },
        1);
  }
}

TEST(ThreadPoolTest, MixedJobsWithSleepsBetween) {
  // Gaps longer than the workers' spin put them to sleep; each job must still
  // be done exactly once, whether a worker wakes in time for it or not.
  std::mt19937 rng(7);
  for (int threads : {2, 3}) {
    ThreadPool pool(threads);
    for (int call = 0; call < 120; ++call) {
      const int64_t n = 1 + static_cast<int64_t>(rng() % 700);
      std::vector<std::atomic<int>> hits(n);
      auto count = [&](int64_t b, int64_t e, int) {
        for (int64_t i = b; i < e; ++i) hits[i].fetch_add(1);
      };
      if (call % 2 == 0) {
        pool.ParallelFor(n, count, 1 + call % 5);
      } else {
        pool.ParallelForDynamic(n, count, 1 + call % 7);
      }
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << call << " " << i;
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 1200));
    }
  }
}

double ProcessCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

TEST(ThreadPoolTest, IdleWorkersSleep) {
  // A server between requests must not burn its cores: a spinning worker
  // would use the whole 300 ms below.
  ThreadPool pool(3);
  std::atomic<int64_t> sum{0};
  pool.ParallelFor(64, [&](int64_t b, int64_t e, int) { sum += e - b; });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const double before = ProcessCpuSeconds();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_LT(ProcessCpuSeconds() - before, 0.05);
  EXPECT_EQ(sum.load(), 64);
}

}  // namespace
}  // namespace accllm
