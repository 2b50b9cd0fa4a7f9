#include "quant/kv_quant.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "model/dtype.h"                  // HalfToFloat
#include "quant/hadamard.h"               // HadamardTransform
#include "tests/quant/quant_test_util.h"  // RandomNormal, MaxAbsDiff, RelativeL2
#include "tests/support/status_matchers.h"

namespace accllm {
namespace {

using ::accllm::testing::StatusIs;
using ::testing::HasSubstr;

using ::accllm::testing::MaxAbsDiff;
using ::accllm::testing::RandomNormal;
using ::accllm::testing::RelativeL2;

float Dot(std::span<const float> a, std::span<const float> b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
  return static_cast<float>(s);
}

TEST(KvQuantTest, RoundTripWithinHalfAStep) {
  for (int bits : {4, 8}) {
    for (int head_dim : {8, 64, 128, 48}) {
      const std::vector<float> x = RandomNormal(static_cast<size_t>(head_dim), head_dim + bits);
      std::vector<uint8_t> codes(static_cast<size_t>(KvCodeBytes(head_dim, bits)));
      const KvQuantParams p = QuantizeKv(x, bits, codes);
      std::vector<float> back(x.size());
      DequantizeKv(codes, p, bits, back);
      EXPECT_LE(MaxAbsDiff(back, x), 0.51 * HalfToFloat(p.scale) + 1e-3) << bits << " " << head_dim;
    }
  }
  EXPECT_EQ(KvCodeBytes(8, 4), 4);
}

TEST(KvQuantTest, DotAndAccumulateMatchDequantizedMath) {
  const int head_dim = 64;
  const std::vector<float> k = RandomNormal(head_dim, 1);
  const std::vector<float> q = RandomNormal(head_dim, 2);
  for (int bits : {4, 8}) {
    std::vector<uint8_t> codes(static_cast<size_t>(KvCodeBytes(head_dim, bits)));
    const KvQuantParams p = QuantizeKv(k, bits, codes);
    std::vector<float> k_hat(head_dim);
    DequantizeKv(codes, p, bits, k_hat);
    EXPECT_NEAR(DotQuantizedKey(q, codes, p, bits), Dot(q, k_hat), 1e-3);
    std::vector<float> out(head_dim, 1.0f);
    AccumulateQuantizedValue(0.5f, codes, p, bits, out);
    for (int i = 0; i < head_dim; ++i) EXPECT_NEAR(out[i], 1.0f + 0.5f * k_hat[i], 1e-5);
  }
}

TEST(KvQuantTest, RotationKeepsQueryKeyProducts) {
  KvFormat f;
  f.bits = 4;
  for (int head_dim : {8, 64, 48}) {
    std::vector<float> q = RandomNormal(static_cast<size_t>(head_dim), 3);
    std::vector<float> k = RandomNormal(static_cast<size_t>(head_dim), 4);
    const float before = Dot(q, k);
    RotateKeyOrQuery(f, q);
    RotateKeyOrQuery(f, k);
    EXPECT_NEAR(Dot(q, k), before, 1e-4f * (1 + std::fabs(before)));
  }
}

TEST(KvQuantTest, HadamardRotationLowersKv4ErrorOnOutlierChannels) {
  // Keys with two outlier channels, as LLM keys have: plain KV4 spends its range on them.
  KvFormat rotated;
  rotated.bits = 4;
  KvFormat plain = rotated;
  plain.rotate_keys = false;
  const int head_dim = 64;
  double err[2] = {0, 0};
  for (int t = 0; t < 32; ++t) {
    std::vector<float> k = RandomNormal(head_dim, 100 + t, 0.5f);
    k[3] += 12.0f;
    k[40] -= 9.0f;
    const std::vector<float> q = RandomNormal(head_dim, 200 + t);
    for (int i = 0; i < 2; ++i) {
      const KvFormat& f = i == 0 ? plain : rotated;
      std::vector<float> kr = k, qr = q;
      RotateKeyOrQuery(f, kr);
      RotateKeyOrQuery(f, qr);
      std::vector<uint8_t> codes(static_cast<size_t>(KvCodeBytes(head_dim, 4)));
      const KvQuantParams p = QuantizeKv(kr, 4, codes);
      const double d = DotQuantizedKey(qr, codes, p, 4) - Dot(q, k);
      err[i] += d * d;
    }
  }
  EXPECT_LT(err[1], 0.5 * err[0]);
}

TEST(KvQuantTest, SinkTokensStayFp16) {
  KvFormat f;
  f.bits = 4;
  f.sink_tokens = 4;
  EXPECT_FALSE(f.QuantizedAt(0));
  EXPECT_FALSE(f.QuantizedAt(3));
  EXPECT_TRUE(f.QuantizedAt(4));
  f.bits = 16;
  EXPECT_FALSE(f.QuantizedAt(100));
  EXPECT_TRUE(ValidateKvFormat(f).ok());
  f.bits = 3;
  EXPECT_THAT(ValidateKvFormat(f),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("kv bits 3")));
}

TEST(HadamardTest, OrthogonalSelfInverseAndBlocks) {
  EXPECT_EQ(HadamardBlocks(172), (std::vector<int64_t>{128, 32, 8, 4}));
  EXPECT_EQ(HadamardBlocks(64), (std::vector<int64_t>{64}));
  for (int n : {1, 2, 8, 64, 172, 7}) {
    const std::vector<float> x = RandomNormal(static_cast<size_t>(n), n);
    std::vector<float> y = x;
    HadamardTransform(y);
    EXPECT_NEAR(Dot(y, y), Dot(x, x), 1e-3 * Dot(x, x));  // norm preserved
    HadamardTransform(y);
    EXPECT_LT(MaxAbsDiff(y, x), 1e-5) << n;
  }
  std::vector<float> e = {1, 0, 0, 0};
  HadamardTransform(e);
  for (float v : e) EXPECT_FLOAT_EQ(v, 0.5f);
}

}  // namespace
}  // namespace accllm
