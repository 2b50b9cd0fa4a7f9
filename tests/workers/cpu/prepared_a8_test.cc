#include "workers/cpu/prepared_a8.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "workers/cpu/thread_pool.h"  // ThreadPool

namespace accllm {
namespace {

// A prefill chunk's activations prepared on the kernel threads (whole quads per thread, a
// ragged last one) equal the one-thread preparation, and the quads interleave the tokens.
TEST(PreparedA8Test, ThreadsAndQuadsMatchOneThread) {
  constexpr int64_t kCols = 200, kGroup = 64;
  ThreadPool pool(2);
  for (int64_t n : {1, 4, 33, 70}) {
    std::mt19937_64 rng(n);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> x(n * kCols);
    for (float& v : x) v = normal(rng);
    PreparedA8 one, threads;
    QuantizePrepareA8(x.data(), n, kCols, kGroup, one);
    QuantizePrepareA8(x.data(), n, kCols, kGroup, threads, &pool);
    EXPECT_EQ(one.scale, threads.scale) << n;
    EXPECT_EQ(one.group_sums, threads.group_sums) << n;
    ASSERT_EQ(one.x4.size(), threads.x4.size());
    for (size_t i = 0; i < one.x4.size(); ++i) ASSERT_EQ(one.x4[i], threads.x4[i]) << n;
    ASSERT_EQ(one.quad_x4.size(), static_cast<size_t>(n / 4 * one.chunks * 16));
    for (int64_t q = 0; q < n / 4; ++q) {
      for (int64_t w = 0; w < one.chunks * 4; ++w) {
        for (int64_t k = 0; k < 4; ++k) {
          ASSERT_EQ(threads.quad(q)[w * 4 + k], one.token_x4(4 * q + k)[w]) << n;
          ASSERT_EQ(one.quad(q)[w * 4 + k], one.token_x4(4 * q + k)[w]) << n;
        }
      }
    }
    // Reused for a smaller batch: the padding words are zero again.
    QuantizePrepareA8(x.data(), 1, kCols, kGroup, threads, &pool);
    EXPECT_EQ(threads.token_x4(0)[kCols / 4 + 1], 0);
  }
}

}  // namespace
}  // namespace accllm
