#include "workers/fpga/kernels/kv_pool.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "model/dtype.h"                            // FloatToHalf, HalfToFloat
#include "quant/kv_quant.h"                         // QuantizeKv, DequantizeKv, RotateKeyOrQuery
#include "tests/workers/fpga/kernels/fake_banks.h"  // FakeBanks

namespace accllm::fpga {
namespace {

struct PoolFixture {
  testing::FakeBanks banks;
  KvPoolView pool;
  std::vector<uint8_t> zeros;

  PoolFixture(int32_t layers, int32_t kv_heads, int32_t hd, int32_t bits, int32_t P,
              int32_t sink_tokens, int32_t pages, bool rotate) {
    pool.layout = ComputeKvPageLayout(layers, kv_heads, hd, bits, P, sink_tokens);
    pool.num_pages = pages;
    pool.n_layers = layers;
    pool.kv_heads = kv_heads;
    pool.head_dim = hd;
    pool.bits = bits;
    pool.page_size = P;
    pool.sink_tokens = sink_tokens;
    pool.rotate_keys = rotate;
    zeros.assign(static_cast<size_t>(pool.layout.page_bytes * pages), 0);
    pool.pool = banks.Place(7, zeros);
  }
  const uint8_t* bytes() { return banks.memory().base[7] + pool.pool.offset; }
};

TEST(KvPoolTest, PageBytesFormula) {
  // 2 layers, 2 KV heads, hd 64, KV4, P 16, 4 fp16 sinks:
  //   codes 2*2*2*16*32 = 4096, params 2*2*2*16*4 = 512, fp16 2*2*2*4*64*2 = 4096.
  const KvPageLayout k = ComputeKvPageLayout(2, 2, 64, 4, 16, 4);
  EXPECT_EQ(k.code_bytes, 32);
  EXPECT_EQ(k.fp16_slots, 4);
  EXPECT_EQ(k.params_offset, 4096);
  EXPECT_EQ(k.fp16_offset, 4096 + 512);
  EXPECT_EQ(k.page_bytes, 4096 + 512 + 4096);
  // Rounded up to 64; fp16 slots capped at P.
  const KvPageLayout r = ComputeKvPageLayout(1, 1, 6, 4, 2, 9);
  EXPECT_EQ(r.fp16_slots, 2);
  EXPECT_EQ(r.page_bytes, 128);  // codes 12 + params 16 + fp16 48 = 76 raw bytes
}

TEST(KvPoolTest, LookupPageBinarySearch) {
  const PageEntry t[] = {{0, 5, 0}, {3, 1, 0}, {4, 9, 0}, {10, 2, 0}};
  EXPECT_EQ(LookupPage(t, 4, 0, 4), 5);
  EXPECT_EQ(LookupPage(t, 4, 3, 4), 5);
  EXPECT_EQ(LookupPage(t, 4, 4, 4), -1);
  EXPECT_EQ(LookupPage(t, 4, 12, 4), 1);
  EXPECT_EQ(LookupPage(t, 4, 19, 4), 9);
  EXPECT_EQ(LookupPage(t, 4, 41, 4), 2);
  EXPECT_EQ(LookupPage(t, 4, 44, 4), -1);
  EXPECT_EQ(LookupPage(t, 4, -1, 4), -1);
  EXPECT_EQ(LookupPage(t, 0, 0, 4), -1);
}

class KvPoolStoreTest : public ::testing::TestWithParam<std::tuple<int, bool>> {};

TEST_P(KvPoolStoreTest, StoreMatchesQuantizeKvAndFp16) {
  const auto [bits, rotate] = GetParam();
  const int32_t layers = 2, kv_heads = 2, hd = 24, P = 4, sink_tokens = 3, pages = 3;
  PoolFixture f(layers, kv_heads, hd, bits, P, sink_tokens, pages, rotate);
  const DeviceMemory mem = f.banks.memory();
  const KvFormat fmt{bits, rotate, sink_tokens};
  std::mt19937 rng(bits * 10 + rotate);
  std::normal_distribution<float> nd(0.0f, 1.5f);
  const int32_t kv_dim = kv_heads * hd;
  // Positions 0..7 (two pages: physical 2 then 0), both layers.
  struct Stored {
    int64_t pos;
    int32_t layer, page;
    std::vector<float> k, v;
  };
  std::vector<Stored> stored;
  for (int64_t pos = 0; pos < 8; ++pos) {
    for (int32_t l = 0; l < layers; ++l) {
      Stored s{pos, l, pos < 4 ? 2 : 0, std::vector<float>(kv_dim), std::vector<float>(kv_dim)};
      for (float& x : s.k) x = nd(rng);
      for (float& x : s.v) x = nd(rng);
      if (pos == 5) std::fill(s.v.begin(), s.v.end(), 0.25f);  // a constant vector
      const std::vector<float> k_before = s.k;
      StoreKv(mem, f.pool, s.page, static_cast<int32_t>(pos % P), l, pos, s.k.data(), s.v.data());
      EXPECT_EQ(s.k, k_before);  // the caller's key is not modified
      stored.push_back(std::move(s));
    }
  }
  const uint8_t* base = f.bytes();
  for (const Stored& s : stored) {
    const int32_t slot = static_cast<int32_t>(s.pos % P);
    for (int32_t g = 0; g < kv_heads; ++g) {
      for (int32_t kv = 0; kv < 2; ++kv) {
        std::vector<float> x((kv == 0 ? s.k : s.v).begin() + g * hd,
                             (kv == 0 ? s.k : s.v).begin() + (g + 1) * hd);
        std::vector<float> got(hd);
        if (!fmt.QuantizedAt(s.pos)) {
          const uint8_t* h = base + f.pool.HalfAt(s.page, s.layer, kv, g, slot);
          for (int32_t d = 0; d < hd; ++d) {
            uint16_t bits16;
            std::memcpy(&bits16, h + 2 * d, 2);
            EXPECT_EQ(bits16, FloatToHalf(x[d]));
          }
          LoadKvVector(mem, f.pool, s.page, slot, s.layer, kv, g, false, got.data());
          for (int32_t d = 0; d < hd; ++d) EXPECT_EQ(got[d], HalfToFloat(FloatToHalf(x[d])));
          continue;
        }
        if (kv == 0) RotateKeyOrQuery(fmt, x);
        std::vector<uint8_t> want_codes(KvCodeBytes(hd, bits));
        const KvQuantParams want = QuantizeKv(x, bits, want_codes);
        const KvCodesRef r = ReadKvCodes(mem, f.pool, s.page, slot, s.layer, kv, g);
        EXPECT_EQ(r.scale, want.scale);
        EXPECT_EQ(r.zero, want.zero);
        EXPECT_EQ(std::vector<uint8_t>(r.codes, r.codes + want_codes.size()), want_codes);
        std::vector<float> want_deq(hd);
        DequantizeKv(want_codes, want, bits, want_deq);
        LoadKvVector(mem, f.pool, s.page, slot, s.layer, kv, g, true, got.data());
        EXPECT_EQ(got, want_deq);
      }
    }
  }
  // Page 1 was never written: pages are disjoint byte ranges.
  for (int64_t b = 0; b < f.pool.layout.page_bytes; ++b) {
    ASSERT_EQ(base[f.pool.layout.page_bytes + b], 0) << b;
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, KvPoolStoreTest,
                         ::testing::Combine(::testing::Values(4, 8), ::testing::Bool()));

}  // namespace
}  // namespace accllm::fpga
