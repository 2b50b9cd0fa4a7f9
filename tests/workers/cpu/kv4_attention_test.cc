#include "workers/cpu/kv4_attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "hwy/targets.h"     // hwy::SetSupportedTargetsForTest, hwy::TargetName
#include "quant/kv_quant.h"  // QuantizeKv, DotQuantizedKey, AccumulateQuantizedValue
#include "tests/workers/cpu/simd_targets.h"  // SimdTargetsToTest

namespace accllm {
namespace {

using ::accllm::testing::SimdTargetsToTest;

struct Case {
  int nq, head_dim;
  int64_t n;
};

// A whole GQA group's attention (scores, softmax, values) through the kernels equals the
// scalar KV4 functions within 1e-5 of the output's magnitude, on every target (the kernels'
// softmax included).
TEST(Kv4AttentionTest, GroupAttentionEqualsScalarKv4) {
  for (const Case& c : {Case{8, 64, 75}, Case{1, 8, 3}, Case{3, 70, 33}, Case{4, 32, 64}}) {
    std::mt19937_64 rng(c.n * 31 + c.head_dim);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    const int64_t cb = KvCodeBytes(c.head_dim, 4);
    std::vector<uint8_t> kcodes(c.n * cb), vcodes(c.n * cb);
    std::vector<Kv4Ref> keys(c.n), values(c.n);
    std::vector<float> x(c.head_dim);
    for (int64_t i = 0; i < c.n; ++i) {
      for (float& v : x) v = 2.0f * normal(rng);
      keys[i] = {kcodes.data() + i * cb, QuantizeKv(x, 4, {kcodes.data() + i * cb, size_t(cb)})};
      for (float& v : x) v = normal(rng);
      values[i] = {vcodes.data() + i * cb, QuantizeKv(x, 4, {vcodes.data() + i * cb, size_t(cb)})};
    }
    std::vector<float> q(c.nq * c.head_dim);
    for (float& v : q) v = normal(rng);
    const float scale = 1.0f / std::sqrt(float(c.head_dim));

    // Scalar reference.
    std::vector<float> expected(c.nq * c.head_dim, 0.0f), ref_w(c.nq * c.n);
    for (int h = 0; h < c.nq; ++h) {
      std::span<const float> qh(q.data() + h * c.head_dim, size_t(c.head_dim));
      float max = -INFINITY, sum = 0.0f;
      for (int64_t i = 0; i < c.n; ++i) {
        ref_w[h * c.n + i] =
            DotQuantizedKey(qh, {keys[i].codes, size_t(cb)}, keys[i].params, 4) * scale;
        max = std::max(max, ref_w[h * c.n + i]);
      }
      for (int64_t i = 0; i < c.n; ++i)
        sum += (ref_w[h * c.n + i] = std::exp(ref_w[h * c.n + i] - max));
      for (int64_t i = 0; i < c.n; ++i) {
        AccumulateQuantizedValue(ref_w[h * c.n + i] / sum, {values[i].codes, size_t(cb)},
                                 values[i].params, 4,
                                 {expected.data() + h * c.head_dim, size_t(c.head_dim)});
      }
    }
    float magnitude = 0.0f;
    for (float v : expected) magnitude = std::max(magnitude, std::fabs(v));

    for (int64_t target : SimdTargetsToTest()) {
      hwy::SetSupportedTargetsForTest(target);
      std::vector<float> w(c.nq * c.n);
      Kv4Scores(q.data(), c.nq, c.head_dim, keys, scale, w.data(), c.n);
      for (int h = 0; h < c.nq; ++h) SoftmaxInPlace(w.data() + h * c.n, c.n);
      std::vector<float> out(c.nq * c.head_dim, 0.0f);
      Kv4AccumulateValues(w.data(), c.n, c.nq, c.head_dim, values, out.data());
      for (size_t d = 0; d < out.size(); ++d) {
        ASSERT_NEAR(out[d], expected[d], 1e-5f * magnitude)
            << hwy::TargetName(target) << " nq " << c.nq << " hd " << c.head_dim << " n " << c.n
            << " at " << d;
      }
    }
    hwy::SetSupportedTargetsForTest(0);
  }
}

// What quantized_kv.cc's query blocks rely on: a query row's scores do not depend on the
// other rows, and its values sum is bit for bit the same when the key list has extra keys
// of weight 0 around its own (so blocks of queries share one key list).
TEST(Kv4AttentionTest, RowsAreIndependentOfTheBlock) {
  constexpr int kHd = 64, kRows = 24;  // 3 tokens × 8 heads
  constexpr int64_t kN = 70, kLo = 9, kHi = 41;  // row 5 reads keys [kLo, kHi) only
  std::mt19937_64 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t cb = KvCodeBytes(kHd, 4);
  std::vector<uint8_t> codes(2 * kN * cb);
  std::vector<Kv4Ref> keys(kN), values(kN);
  std::vector<float> x(kHd);
  for (int64_t i = 0; i < kN; ++i) {
    for (float& v : x) v = normal(rng);
    keys[i] = {codes.data() + i * cb, QuantizeKv(x, 4, {codes.data() + i * cb, size_t(cb)})};
    for (float& v : x) v = normal(rng);
    uint8_t* vc = codes.data() + (kN + i) * cb;
    values[i] = {vc, QuantizeKv(x, 4, {vc, size_t(cb)})};
  }
  std::vector<float> q(kRows * kHd);
  for (float& v : q) v = normal(rng);
  for (int64_t target : SimdTargetsToTest()) {
    hwy::SetSupportedTargetsForTest(target);
    // Alone: row 5 over its own keys.
    std::vector<float> w1(kHi - kLo), o1(kHd, 0.5f);
    Kv4Scores(q.data() + 5 * kHd, 1, kHd, {keys.data() + kLo, size_t(kHi - kLo)}, 0.125f,
              w1.data(), kHi - kLo);
    SoftmaxInPlace(w1.data(), kHi - kLo);
    Kv4AccumulateValues(w1.data(), kHi - kLo, 1, kHd, {values.data() + kLo, size_t(kHi - kLo)},
                        o1.data());
    // In a block: all rows over all keys, row 5's weights 0 outside [kLo, kHi).
    std::vector<float> s(kRows * kN), w(kRows * kN, 0.25f / kN), o(kRows * kHd, 0.5f);
    Kv4Scores(q.data(), kRows, kHd, keys, 0.125f, s.data(), kN);
    std::vector<float> alone(kHi - kLo);
    Kv4Scores(q.data() + 5 * kHd, 1, kHd, {keys.data() + kLo, size_t(kHi - kLo)}, 0.125f,
              alone.data(), kHi - kLo);
    for (int64_t i = kLo; i < kHi; ++i) {
      ASSERT_EQ(s[5 * kN + i], alone[i - kLo]) << hwy::TargetName(target) << " key " << i;
    }
    std::fill(w.begin() + 5 * kN, w.begin() + 6 * kN, 0.0f);
    std::copy(w1.begin(), w1.end(), w.begin() + 5 * kN + kLo);
    Kv4AccumulateValues(w.data(), kN, kRows, kHd, values, o.data());
    for (int d = 0; d < kHd; ++d) {
      ASSERT_EQ(o[5 * kHd + d], o1[d]) << hwy::TargetName(target) << " channel " << d;
    }
  }
  hwy::SetSupportedTargetsForTest(0);
}

}  // namespace
}  // namespace accllm
