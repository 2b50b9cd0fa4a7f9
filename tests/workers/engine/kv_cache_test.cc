#include "workers/engine/kv_cache.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

namespace accllm {
namespace {

// The dense float cache attends per KV head on the kernel threads: the parts together equal
// Attend, bit for bit.
TEST(KvCacheTest, AttendPartsEqualAttend) {
  ModelConfig c;
  c.dim = 128;
  c.n_heads = 4;
  c.n_kv_heads = 2;
  c.n_layers = 1;
  c.max_seq_len = 64;
  KvCache kv(c, 40);
  std::mt19937_64 rng(9);
  std::normal_distribution<float> g(0.0f, 1.0f);
  std::vector<float> k(c.kv_dim()), v(c.kv_dim()), q(c.dim);
  for (int64_t pos = 0; pos < 40; ++pos) {
    for (float& f : k) f = g(rng);
    for (float& f : v) f = g(rng);
    kv.Store(0, pos, k, v);
  }
  for (float& f : q) f = g(rng);
  ASSERT_TRUE(kv.ConcurrentAttend());
  ASSERT_EQ(kv.AttendParts(), 2);
  std::vector<float> whole(c.dim), parts(c.dim);
  kv.Attend(0, 39, q, whole);
  for (int32_t p = 1; p >= 0; --p) kv.AttendPart(0, 39, q, parts, p);
  EXPECT_EQ(std::memcmp(whole.data(), parts.data(), whole.size() * sizeof(float)), 0);
}

}  // namespace
}  // namespace accllm
