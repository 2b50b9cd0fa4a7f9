#include "workers/fpga/kernels/decoder_step.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "quant/group_quantizer.h"                  // RoundToHalf
#include "quant/int8_rows.h"                        // QuantizeInt8Rows
#include "quant/quantized_linear.h"                 // PackLinear
#include "tests/workers/fpga/kernels/fake_banks.h"  // FakeBanks
#include "model/rope.h"                             // Rope

namespace accllm::fpga {
namespace {

constexpr int32_t kDim = 64, kHidden = 96, kHeads = 4, kKvHeads = 2, kHd = 16, kVocab = 50;
constexpr int32_t kLayers = 2, kPageSize = 2, kPages = 12;

QuantizedLinear RandomW4(int64_t rows, int64_t cols, bool sparse, std::mt19937_64& rng) {
  UnpackedLinear u;
  u.format.bits = 4;
  u.format.group = 32;
  u.format.sparsity = sparse ? Sparsity::k2of4 : Sparsity::kDense;
  u.rows = rows;
  u.cols = cols;
  u.codes.resize(static_cast<size_t>(rows * cols));
  for (uint8_t& c : u.codes) c = static_cast<uint8_t>(rng() % 16);
  if (sparse) {
    u.keep.assign(u.codes.size(), 0);
    for (size_t b = 0; b < u.keep.size(); b += 4) {
      const int first = static_cast<int>(rng() % 4);
      u.keep[b + first] = u.keep[b + (first + 1 + rng() % 3) % 4] = 1;
    }
  }
  std::uniform_real_distribution<float> scale(0.002f, 0.02f), zero(6.0f, 9.0f);
  for (int64_t i = 0; i < rows * ((cols + 31) / 32); ++i) {
    u.scales.push_back(RoundToHalf(scale(rng)));
    u.zeros.push_back(RoundToHalf(zero(rng)));
  }
  absl::StatusOr<QuantizedLinear> q = PackLinear(u);
  EXPECT_TRUE(q.ok()) << q.status();
  return *std::move(q);
}

// A random tiny model in fake banks, its KV pool zeroed, and a logits area.
class TinyCard {
 public:
  TinyCard() {
    std::mt19937_64 rng(42);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    ModelDesc m;
    m.dim = kDim;
    m.hidden = kHidden;
    m.n_layers = kLayers;
    m.n_heads = kHeads;
    m.n_kv_heads = kKvHeads;
    m.head_dim = kHd;
    m.vocab = kVocab;
    m.norm_eps = 1e-5f;
    m.kv_bits = 4;
    m.rotate_keys = 1;
    m.sink_tokens = 2;
    m.page_size = kPageSize;
    m.num_pages = kPages;
    m.kv = ComputeKvPageLayout(kLayers, kKvHeads, kHd, 4, kPageSize, 2);
    std::vector<float> table(static_cast<size_t>(kVocab) * kDim);
    for (float& v : table) v = nd(rng);
    const Int8Rows t = QuantizeInt8Rows(table, kVocab, kDim);
    m.embedding = {kVocab, kDim, banks_.Place(3, t.values), banks_.Place(3, t.scales)};
    m.head = m.embedding;  // tied
    auto norm = [&](int bank) {
      std::vector<float> w(kDim);
      for (float& v : w) v = 1.0f + 0.1f * nd(rng);
      return banks_.Place(bank, w);
    };
    m.final_norm = norm(4);
    auto linear = [&](int64_t rows, int64_t cols, bool sparse, int bank) {
      const QuantizedLinear q = RandomW4(rows, cols, sparse, rng);
      LinearDesc d;
      d.rows = static_cast<int32_t>(rows);
      d.cols = static_cast<int32_t>(cols);
      d.bits = 4;
      d.group = 32;
      d.sparse24 = sparse;
      d.num_groups = q.layout.num_groups;
      d.qweight_row_bytes = q.layout.qweight_row_bytes;
      d.mask_row_bytes = q.layout.mask_row_bytes;
      d.qweight = banks_.Place(bank, q.qweight);
      d.scales = banks_.Place(bank, q.scales);
      d.zeros = banks_.Place(bank, q.zeros);
      d.mask = banks_.Place(bank, q.mask);
      return d;
    };
    std::vector<LayerDesc> layers(kLayers);
    for (int32_t l = 0; l < kLayers; ++l) {
      LayerDesc& d = layers[l];
      d.attn_norm = norm(4);
      d.ffn_norm = norm(4);
      d.q = linear(kDim, kDim, false, 5 + l);
      d.k = linear(kKvHeads * kHd, kDim, true, 5 + l);
      d.v = linear(kKvHeads * kHd, kDim, false, 5 + l);
      d.o = linear(kDim, kDim, true, 8 + l);
      d.gate = linear(kHidden, kDim, false, 10 + l);
      d.up = linear(kHidden, kDim, true, 10 + l);
      d.down = linear(kDim, kHidden, false, 12 + l);
    }
    m.kv_pool =
        banks_.Place(1, std::vector<uint8_t>(static_cast<size_t>(kPages * m.kv.page_bytes)));
    std::vector<uint8_t> desc(ModelDescBytes(kLayers));
    WriteModelDesc(m, layers.data(), desc.data());
    desc_ = banks_.Place(0, desc);
    pool_ = m.kv_pool;
    logits_ = banks_.Place(2, std::vector<float>(8 * kVocab, 0.0f));
  }

  struct Token {
    int32_t token;
    int64_t pos;
    int32_t logits_row;
  };
  // One sequence (Λ S=2, W=2 unless given) over the page table `pages`.
  std::vector<uint8_t> Command(const std::vector<Token>& tokens,
                               const std::vector<PageEntry>& pages,
                               AttentionRule rule = {0, 2, 2}) {
    RopeRun tok, sink;
    SequenceRopeRuns(rule, tokens.front().pos, tokens.back().pos, &tok, &sink);
    sink.first_row = tok.rows;
    const StepHeader h =
        ComputeStepLayout(static_cast<int32_t>(tokens.size()), 1,
                          static_cast<int32_t>(pages.size()), tok.rows + sink.rows, kHd, 8);
    std::vector<uint8_t> buf(h.total_bytes);
    StepCommandWriter w(h, buf.data());
    for (size_t i = 0; i < tokens.size(); ++i) {
      w.SetToken(static_cast<int32_t>(i),
                 {tokens[i].token, 0, tokens[i].pos, tokens[i].logits_row, 0});
    }
    StepSequence s;
    s.rule = rule;
    s.page_first = 0;
    s.page_count = static_cast<int32_t>(pages.size());
    s.rope = tok;
    s.sink_rope = sink;
    w.SetSequence(0, s);
    for (size_t i = 0; i < pages.size(); ++i) w.SetPage(static_cast<int32_t>(i), pages[i]);
    std::vector<float> row(kHd);
    for (const RopeRun& run : {tok, sink}) {
      for (int32_t r = 0; r < run.rows; ++r) {
        Rope(kHd, 10000.0).Row(run.first_pos + r, row.data());
        w.SetRopeRow(run.first_row + r, row.data());
      }
    }
    return buf;
  }

  int32_t Run(const std::vector<uint8_t>& command) {
    const DeviceRef cmd = banks_.Place(14, command);
    return DecoderStep(banks_.memory(), desc_, cmd, logits_);
  }
  std::vector<float> Logits(int32_t row) {
    std::vector<float> out(kVocab);
    std::memcpy(out.data(), banks_.memory().base[2] + logits_.offset + row * kVocab * 4,
                kVocab * 4);
    return out;
  }
  std::vector<uint8_t> Pool() {
    const uint8_t* p = banks_.memory().base[1] + pool_.offset;
    return std::vector<uint8_t>(p, p + pool_.bytes);
  }
  BankCounters& counters() { return banks_.counters; }

 private:
  testing::FakeBanks banks_;
  DeviceRef desc_, pool_, logits_;
};

// Positions 0..4 live in logical pages 0..2 (P = 2), scattered over the pool.
const std::vector<PageEntry> kPagesOf5 = {{0, 7, 0}, {1, 2, 0}, {2, 10, 0}};
const int32_t kPrompt[5] = {3, 17, 49, 0, 25};

TEST(DecoderStepTest, PrefillChunkEqualsSingleTokenSteps) {
  TinyCard batched, single;
  std::vector<TinyCard::Token> chunk;
  for (int32_t i = 0; i < 5; ++i) chunk.push_back({kPrompt[i], i, i});
  ASSERT_EQ(batched.Run(batched.Command(chunk, kPagesOf5)), kKernelOk);
  for (int32_t i = 0; i < 5; ++i) {
    ASSERT_EQ(single.Run(single.Command({{kPrompt[i], i, i}}, kPagesOf5)), kKernelOk) << i;
  }
  for (int32_t i = 0; i < 5; ++i) {
    const std::vector<float> a = batched.Logits(i), b = single.Logits(i);
    EXPECT_EQ(a, b) << "token " << i;
    float norm = 0.0f;
    for (float v : a) norm += v * v;
    EXPECT_GT(norm, 0.0f);
  }
  EXPECT_EQ(batched.Pool(), single.Pool());
  EXPECT_GT(batched.counters().total_written(), 0u);
}

TEST(DecoderStepTest, DenseAndLambdaDiffer) {
  TinyCard lambda, dense;
  std::vector<TinyCard::Token> chunk;
  for (int32_t i = 0; i < 5; ++i) chunk.push_back({kPrompt[i], i, i == 4 ? 0 : -1});
  ASSERT_EQ(lambda.Run(lambda.Command(chunk, kPagesOf5)), kKernelOk);
  ASSERT_EQ(dense.Run(dense.Command(chunk, kPagesOf5, {1, 0, 0})), kKernelOk);
  // Under Λ(2, 2) position 4 skips position 2 and reads its sinks re-rotated.
  EXPECT_NE(lambda.Logits(0), dense.Logits(0));
}

TEST(DecoderStepTest, BadInputsReturnErrorsAndWriteNothing) {
  TinyCard card;
  const std::vector<uint8_t> before = card.Pool();
  EXPECT_EQ(card.Run(card.Command({{kVocab, 0, 0}}, kPagesOf5)), kErrBadTokenId);
  EXPECT_EQ(card.Run(card.Command({{-1, 0, 0}}, kPagesOf5)), kErrBadTokenId);
  EXPECT_EQ(card.Run(card.Command({{1, -1, 0}}, kPagesOf5)), kErrBadPosition);
  EXPECT_EQ(card.Run(card.Command({{1, 6, 0}}, kPagesOf5)), kErrPageNotCovered);
  // Position 4 reads sink page 0, which is missing.
  EXPECT_EQ(card.Run(card.Command({{1, 4, 0}}, {{1, 2, 0}, {2, 10, 0}})), kErrPageNotCovered);
  EXPECT_EQ(card.Run(card.Command({{1, 0, 0}}, {{0, kPages, 0}})), kErrPageOutOfPool);
  EXPECT_EQ(card.Run(card.Command({{1, 0, 0}}, {{0, -3, 0}})), kErrPageOutOfPool);
  EXPECT_EQ(card.Run(card.Command({{1, 2, 0}}, {{1, 2, 0}, {0, 7, 0}})), kErrPageOutOfPool);
  EXPECT_EQ(card.Run(card.Command({{1, 0, 8}}, kPagesOf5)), kErrBadLogitsRow);
  EXPECT_EQ(card.Run(card.Command({{1, 0, 0}}, kPagesOf5, {0, 4, 3})), kErrBadAttentionRule);
  // The rope rows of the command miss position 3 (the runs were built for 0..2).
  std::vector<uint8_t> cmd = card.Command({{1, 0, -1}, {2, 1, -1}, {3, 2, 0}}, kPagesOf5);
  StepToken t{4, 0, 3, -1, 0};
  StepHeader h;
  std::memcpy(&h, cmd.data(), sizeof(h));
  std::memcpy(cmd.data() + h.tokens_offset + 2 * sizeof(StepToken), &t, sizeof(t));
  EXPECT_EQ(card.Run(cmd), kErrRopeRowMissing);
  // A truncated command, a bad magic, too many tokens.
  std::vector<uint8_t> ok = card.Command({{1, 0, 0}}, kPagesOf5);
  EXPECT_EQ(card.Run(std::vector<uint8_t>(ok.begin(), ok.end() - 4)), kErrBadCommand);
  std::vector<uint8_t> bad = ok;
  bad[0] ^= 1;
  EXPECT_EQ(card.Run(bad), kErrBadCommand);
  std::vector<TinyCard::Token> many(kMaxStepTokens + 1, {1, 0, -1});
  EXPECT_EQ(card.Run(card.Command(many, kPagesOf5)), kErrTooManyTokens);
  EXPECT_EQ(card.Pool(), before);
  // And the good command still runs.
  EXPECT_EQ(card.Run(ok), kKernelOk);
  EXPECT_NE(card.Pool(), before);
}

}  // namespace
}  // namespace accllm::fpga
