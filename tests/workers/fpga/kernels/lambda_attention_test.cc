#include "workers/fpga/kernels/lambda_attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "model/attention_window.h"                 // AttentionWindow
#include "model/dtype.h"                            // FloatToHalf, HalfToFloat
#include "quant/kv_quant.h"                         // QuantizeKv, DotQuantizedKey, ...
#include "tests/workers/fpga/kernels/fake_banks.h"  // FakeBanks
#include "model/rope.h"                             // Rope
#include "workers/fpga/kernels/elementwise.h"       // RopeApply
#include "workers/fpga/kernels/kernel_status.h"     // kKernelOk

namespace accllm::fpga {
namespace {

constexpr int32_t kLayers = 2, kKvHeads = 2, kHeads = 4, kHd = 32, kKvDim = kKvHeads * kHd;

// The reference: QuantizedSequenceKv's Store and scalar Attend (KV8 path) restated with
// quant/kv_quant.h's functions over its own storage, one map entry per (layer, position).
struct RefSlot {
  std::vector<uint16_t> k_half, v_half;  // fp16 positions
  std::vector<std::vector<uint8_t>> k_codes, v_codes;
  std::vector<KvQuantParams> k_params, v_params;
};

void RopeRef(float* v, int64_t pos) {  // Rope::Apply on one head, restated
  for (int j = 0; j < kHd / 2; ++j) {
    const double angle = double(pos) * std::pow(10000.0, -2.0 * j / kHd);
    const float c = float(std::cos(angle)), s = float(std::sin(angle));
    const float a = v[j], b = v[j + kHd / 2];
    v[j] = a * c - b * s;
    v[j + kHd / 2] = a * s + b * c;
  }
}

struct Reference {
  KvFormat fmt;
  AttentionWindow window;
  std::map<std::pair<int, int64_t>, RefSlot> slots;

  void Store(int layer, int64_t pos, std::vector<float> k, const std::vector<float>& v) {
    RefSlot& s = slots[{layer, pos}];
    if (!window.IsSink(pos)) {
      for (int g = 0; g < kKvHeads; ++g) RopeRef(k.data() + g * kHd, pos);
    }
    if (!fmt.QuantizedAt(pos)) {
      for (int i = 0; i < kKvDim; ++i) {
        s.k_half.push_back(FloatToHalf(k[i]));
        s.v_half.push_back(FloatToHalf(v[i]));
      }
      return;
    }
    const int64_t cb = KvCodeBytes(kHd, fmt.bits);
    for (int g = 0; g < kKvHeads; ++g) {
      std::span<float> kh(k.data() + g * kHd, kHd);
      RotateKeyOrQuery(fmt, kh);
      s.k_codes.emplace_back(cb);
      s.v_codes.emplace_back(cb);
      s.k_params.push_back(QuantizeKv(kh, fmt.bits, s.k_codes.back()));
      s.v_params.push_back(
          QuantizeKv(std::span<const float>(v.data() + g * kHd, kHd), fmt.bits, s.v_codes.back()));
    }
  }

  void KeyValueFloat(int layer, int64_t p, int g, float* k, float* v) const {
    const RefSlot& s = slots.at({layer, p});
    if (!fmt.QuantizedAt(p)) {
      for (int d = 0; d < kHd; ++d) {
        k[d] = HalfToFloat(s.k_half[g * kHd + d]);
        v[d] = HalfToFloat(s.v_half[g * kHd + d]);
      }
      return;
    }
    DequantizeKv(s.k_codes[g], s.k_params[g], fmt.bits, {k, size_t(kHd)});
    RotateKeyOrQuery(fmt, {k, size_t(kHd)});
    DequantizeKv(s.v_codes[g], s.v_params[g], fmt.bits, {v, size_t(kHd)});
  }

  void Attend(int layer, int64_t t, const float* q, float* out) const {
    const float scale = 1.0f / std::sqrt(float(kHd));
    const int64_t ws_raw = window.WindowStart(t);
    const int64_t qa = std::min(t + 1, std::max<int64_t>(ws_raw, fmt.sink_tokens));
    std::vector<int64_t> float_pos;
    for (int64_t i = 0; i < window.SinkCount(t); ++i) float_pos.push_back(i);
    for (int64_t p = std::min(ws_raw, t + 1); p < qa; ++p) float_pos.push_back(p);
    for (int g = 0; g < kKvHeads; ++g) {
      std::vector<float> keys(float_pos.size() * kHd), values(float_pos.size() * kHd);
      for (size_t i = 0; i < float_pos.size(); ++i) {
        KeyValueFloat(layer, float_pos[i], g, &keys[i * kHd], &values[i * kHd]);
        if (int64_t(i) < window.SinkCount(t)) {
          RopeRef(&keys[i * kHd], window.SinkRopePosition(t, int32_t(i)));
        }
      }
      for (int h = g * (kHeads / kKvHeads); h < (g + 1) * (kHeads / kKvHeads); ++h) {
        const float* qh = q + h * kHd;
        std::vector<float> w;
        for (size_t i = 0; i < float_pos.size(); ++i) {
          float dot = 0.0f;
          for (int d = 0; d < kHd; ++d) dot += qh[d] * keys[i * kHd + d];
          w.push_back(dot * scale);
        }
        std::vector<float> q_rot(qh, qh + kHd);
        RotateKeyOrQuery(fmt, q_rot);
        for (int64_t p = qa; p <= t; ++p) {
          const RefSlot& s = slots.at({layer, p});
          w.push_back(DotQuantizedKey(q_rot, s.k_codes[g], s.k_params[g], fmt.bits) * scale);
        }
        float max = -INFINITY, sum = 0.0f;
        for (float x : w) max = std::max(max, x);
        for (float& x : w) sum += (x = std::exp(x - max));
        for (float& x : w) x /= sum;
        float* o = out + h * kHd;
        std::fill(o, o + kHd, 0.0f);
        for (size_t i = 0; i < float_pos.size(); ++i) {
          for (int d = 0; d < kHd; ++d) o[d] += w[i] * values[i * kHd + d];
        }
        for (int64_t p = qa; p <= t; ++p) {
          const RefSlot& s = slots.at({layer, p});
          AccumulateQuantizedValue(w[float_pos.size() + (p - qa)], s.v_codes[g], s.v_params[g],
                                   fmt.bits, {o, size_t(kHd)});
        }
      }
    }
  }
};

// bits, dense, page size, sink_tokens, rotate_keys
using Param = std::tuple<int, bool, int, int, bool>;
class LambdaAttentionTest : public ::testing::TestWithParam<Param> {};

TEST_P(LambdaAttentionTest, MatchesScalarRestatementOverRecycledPages) {
  const auto [bits, dense, P, sink_tokens, rotate] = GetParam();
  const AttentionWindow window = dense ? AttentionWindow::Dense() : AttentionWindow::Lambda(4, 8);
  const AttentionRule rule = window;
  const int64_t T = 40;
  const int32_t num_pages = dense ? int32_t((T + P - 1) / P) + 2 : 8;
  Reference ref{{bits, rotate, sink_tokens}, window, {}};

  testing::FakeBanks banks;
  KvPoolView pool;
  pool.layout = ComputeKvPageLayout(kLayers, kKvHeads, kHd, bits, P, sink_tokens);
  pool.num_pages = num_pages;
  pool.n_layers = kLayers;
  pool.kv_heads = kKvHeads;
  pool.head_dim = kHd;
  pool.bits = bits;
  pool.page_size = P;
  pool.sink_tokens = sink_tokens;
  pool.rotate_keys = rotate;
  std::vector<uint8_t> garbage(size_t(pool.layout.page_bytes * num_pages));
  std::mt19937 rng(bits * 1000 + dense * 100 + P * 10 + sink_tokens + rotate);
  for (uint8_t& b : garbage) b = uint8_t(rng());  // recycled pages hold stale bytes
  pool.pool = banks.Place(11, garbage);
  const DeviceMemory mem = banks.memory();

  std::vector<int32_t> free_pages(num_pages);
  for (int32_t i = 0; i < num_pages; ++i) free_pages[i] = i;
  std::shuffle(free_pages.begin(), free_pages.end(), rng);
  std::map<int64_t, int32_t> table;  // logical -> physical
  std::normal_distribution<float> nd(0.0f, 1.0f);
  AttendScratch scratch;
  double worst = 0.0;
  for (int64_t t = 0; t < T; ++t) {
    if (!table.count(t / P)) {
      ASSERT_FALSE(free_pages.empty()) << "pool too small at " << t;
      table[t / P] = free_pages.back();
      free_pages.pop_back();
    }
    std::vector<PageEntry> entries;
    for (const auto& [l, p] : table) entries.push_back({l, p, 0});
    const SequenceView seq{entries.data(), int32_t(entries.size()), rule};
    std::vector<float> own_row(kHd);
    Rope(kHd, 10000.0).Row(t, own_row.data());
    std::vector<float> sink_rows(size_t(rule.SinkCount(t)) * kHd);
    for (int64_t j = 0; j < rule.SinkCount(t); ++j) {
      Rope(kHd, 10000.0).Row(rule.SinkRopePosition(t, int32_t(j)), &sink_rows[j * kHd]);
    }
    for (int32_t layer = 0; layer < kLayers; ++layer) {
      std::vector<float> k(kKvDim), v(kKvDim), q(kHeads * kHd);
      for (float& x : k) x = nd(rng);
      for (float& x : v) x = nd(rng);
      for (float& x : q) x = nd(rng) * 2.0f;
      k[3] = 12.0f;  // an outlier channel
      ref.Store(layer, t, k, v);
      if (!rule.IsSink(t)) RopeApply(k.data(), kKvHeads, kHd, own_row.data());
      StoreKv(mem, pool, table[t / P], int32_t(t % P), layer, t, k.data(), v.data());

      std::vector<float> got(kHeads * kHd), want(kHeads * kHd);
      ASSERT_EQ(LambdaAttend(mem, pool, layer, seq, t, kHeads, q.data(), sink_rows.data(),
                             got.data(), &scratch),
                kKernelOk);
      ref.Attend(layer, t, q.data(), want.data());
      for (int i = 0; i < kHeads * kHd; ++i) {
        if (bits == 8) {
          ASSERT_EQ(got[i], want[i]) << "t " << t << " layer " << layer << " i " << i;
        } else {
          ASSERT_NEAR(got[i], want[i], 2e-5 * (1.0 + std::fabs(want[i])))
              << "t " << t << " i " << i;
          worst = std::max(worst, double(std::fabs(got[i] - want[i])));
        }
      }
    }
    // Release pages whose positions are all dead for the next query (never the sink pages).
    for (auto it = table.begin(); it != table.end();) {
      const int64_t first = it->first * P, last = first + P - 1;
      if (!dense && first >= window.sinks && last < window.WindowStart(t + 1)) {
        free_pages.insert(free_pages.begin() + rng() % (free_pages.size() + 1), it->second);
        it = table.erase(it);
      } else {
        ++it;
      }
    }
  }
  if (!dense) {
    EXPECT_LT(table.size(), size_t(num_pages));
  }
  RecordProperty("kv4_worst_abs_diff", std::to_string(worst));
}

INSTANTIATE_TEST_SUITE_P(
    Rules, LambdaAttentionTest,
    ::testing::Values(Param{4, false, 4, 4, true}, Param{4, false, 16, 4, true},
                      Param{4, false, 4, 2, true}, Param{4, false, 16, 2, true},
                      Param{4, false, 4, 6, true}, Param{4, true, 4, 4, true},
                      Param{4, true, 16, 2, true}, Param{4, false, 4, 2, false},
                      Param{8, false, 4, 4, true}, Param{8, false, 16, 2, true},
                      Param{8, false, 4, 2, false}, Param{8, true, 4, 4, true},
                      Param{8, true, 16, 0, true}, Param{4, false, 16, 0, true}));

TEST(LambdaAttentionChecks, MissingPagesAreErrors) {
  KvPoolView pool;
  pool.page_size = 4;
  pool.num_pages = 4;
  pool.sink_tokens = 4;
  const AttentionRule lambda{0, 4, 8};
  // Position 21 reads sinks 0..3 (page 0) and window 14..21 (pages 3..5).
  std::vector<PageEntry> full = {{0, 0, 0}, {3, 1, 0}, {4, 2, 0}, {5, 3, 0}};
  EXPECT_EQ(CheckAttendPages(pool, {full.data(), 4, lambda}, 21), kKernelOk);
  std::vector<PageEntry> no_sink = {{3, 1, 0}, {4, 2, 0}, {5, 3, 0}};
  EXPECT_EQ(CheckAttendPages(pool, {no_sink.data(), 3, lambda}, 21), kErrPageNotCovered);
  std::vector<PageEntry> hole = {{0, 0, 0}, {4, 2, 0}, {5, 3, 0}};
  EXPECT_EQ(CheckAttendPages(pool, {hole.data(), 3, lambda}, 21), kErrPageNotCovered);
  EXPECT_EQ(CheckAttendPages(pool, {full.data(), 4, lambda}, 24), kErrPageNotCovered);
  std::vector<PageEntry> outside = {{0, 0, 0}, {3, 1, 0}, {4, 2, 0}, {5, 4, 0}};
  EXPECT_EQ(CheckAttendPages(pool, {outside.data(), 4, lambda}, 21), kErrPageOutOfPool);
  // Dense reads every page up to the query.
  EXPECT_EQ(CheckAttendPages(pool, {full.data(), 4, AttentionRule{1, 0, 0}}, 21),
            kErrPageNotCovered);
}

}  // namespace
}  // namespace accllm::fpga
