#include "workers/fpga/kernels/decoder_step.h"

#include <cstring>  // std::memcpy
#include <vector>

#include "workers/fpga/kernels/a8_quantize.h"       // QuantizeA8Row
#include "workers/fpga/kernels/decoder_checks.h"    // ReadAndCheckStep, CheckedStep
#include "workers/fpga/kernels/elementwise.h"       // RmsNormRow, RopeApply, SwiGluRow
#include "workers/fpga/kernels/hls.h"               // ACCLLM_HLS
#include "workers/fpga/kernels/int8_table.h"        // Int8EmbeddingRow, Int8Head
#include "workers/fpga/kernels/kv_pool.h"           // StoreKv, KvPoolView
#include "workers/fpga/kernels/lambda_attention.h"  // LambdaAttend
#include "workers/fpga/kernels/rce_linear.h"        // RceLinear

namespace accllm::fpga {
namespace {

// A float32 [n] vector of a bank (norm weights), copied on chip.
void ReadFloats(const DeviceMemory& mem, const DeviceRef& ref, int32_t n, float* out) {
  const uint64_t bytes = static_cast<uint64_t>(n) * sizeof(float);
  std::memcpy(out, mem.ReadPart<uint8_t>(ref, 0, bytes), bytes);
}

// The step's activations, one row per token (C simulation: host vectors).
struct Activations {
  std::vector<float> x, xb, q, attn, proj;  // [n, dim]
  std::vector<float> k, v, key;             // [n, kv_dim]; key: one token's stored frame
  std::vector<float> gate, up;              // [n, hidden]
  std::vector<int8_t> xq;                   // [n, max(dim, hidden)]
  std::vector<float> xs;                    // [n] A8 scales
  std::vector<float> norm;                  // [dim]
  std::vector<float> sink_rows;             // [S, head_dim]
};

// xq/xs = A8 of rows [n, width] of `in` (one quantization per token, shared by the linears
// that read `in`).
void QuantizeRows(const float* in, int32_t n, int32_t width, Activations& a) {
  for (int32_t i = 0; i < n; ++i) {
    QuantizeA8Row(in + static_cast<int64_t>(i) * width, width,
                  a.xq.data() + static_cast<int64_t>(i) * width, &a.xs[i]);
  }
}

// xb = RMSNorm(x) · weight for the first n tokens, then one A8 quantization of xb that the
// linears reading it share (the CPU's ApplyBatchShared). `rows` maps output row j to the token
// row of x it normalizes (null: j itself).
void NormThenQuantize(const DeviceMemory& mem, const DeviceRef& weight, const ModelDesc& m,
                      int32_t n, const int32_t* rows, Activations& a) {
  ReadFloats(mem, weight, m.dim, a.norm.data());
  for (int32_t j = 0; j < n; ++j) {
    const int64_t i = rows != nullptr ? rows[j] : j;
    RmsNormRow(a.x.data() + i * m.dim, a.norm.data(), m.dim, m.norm_eps,
               a.xb.data() + static_cast<int64_t>(j) * m.dim);
  }
  QuantizeRows(a.xb.data(), n, m.dim, a);
}

}  // namespace

int32_t DecoderStep(const DeviceMemory& mem, DeviceRef model_desc, DeviceRef command,
                    DeviceRef logits_out) {
  if (int32_t s = CheckModelDesc(mem, model_desc); s != kKernelOk) return s;
  const ModelDesc m = ReadModelDesc(mem, model_desc);
  CheckedStep step;
  if (int32_t s = ReadAndCheckStep(mem, m, command, logits_out, &step); s != kKernelOk) return s;
  const int32_t n = step.header.n_tokens;
  if (n == 0) return kKernelOk;

  const int32_t dim = m.dim, hidden = m.hidden, hd = m.head_dim;
  const int32_t kv_dim = m.n_kv_heads * hd;
  KvPoolView pool;
  pool.pool = m.kv_pool;
  pool.layout = m.kv;
  pool.num_pages = m.num_pages;
  pool.n_layers = m.n_layers;
  pool.kv_heads = m.n_kv_heads;
  pool.head_dim = hd;
  pool.bits = m.kv_bits;
  pool.page_size = m.page_size;
  pool.sink_tokens = m.sink_tokens;
  pool.rotate_keys = m.rotate_keys != 0;

  Activations a;
  const size_t rows = static_cast<size_t>(n);
  for (auto* v : {&a.x, &a.xb, &a.q, &a.attn, &a.proj}) v->resize(rows * dim);
  a.k.resize(rows * kv_dim);
  a.v.resize(rows * kv_dim);
  a.key.resize(static_cast<size_t>(kv_dim));
  a.gate.resize(rows * hidden);
  a.up.resize(rows * hidden);
  a.xq.resize(rows * static_cast<size_t>(dim > hidden ? dim : hidden));
  a.xs.resize(rows);
  a.norm.resize(static_cast<size_t>(dim));
  auto row = [](std::vector<float>& v, int32_t i, int32_t width) {
    return v.data() + static_cast<int64_t>(i) * width;
  };
  // Each token's own RoPE row and its sequence's view of the pages.
  std::vector<const float*> rope_of(rows);
  std::vector<SequenceView> view_of(rows);
  for (int32_t i = 0; i < n; ++i) {
    const StepToken& t = step.tokens[i];
    const StepSequence& s = step.sequences[t.sequence];
    rope_of[i] = step.rope.data() + static_cast<int64_t>(RopeRowOf(s, t.position)) * hd;
    view_of[i] = {step.pages.data() + s.page_first, s.page_count, s.rule};
  }
  AttendScratch scratch;

  for (int32_t i = 0; i < n; ++i) {
    Int8EmbeddingRow(mem, m.embedding, step.tokens[i].token, row(a.x, i, dim));
  }
  for (int32_t l = 0; l < m.n_layers; ++l) {
    const LayerDesc layer = ReadLayerDesc(mem, model_desc, l);
    // Attention block.
    NormThenQuantize(mem, layer.attn_norm, m, n, nullptr, a);
    RceLinear(mem, layer.q, a.xq.data(), a.xs.data(), n, a.q.data());
    RceLinear(mem, layer.k, a.xq.data(), a.xs.data(), n, a.k.data());
    RceLinear(mem, layer.v, a.xq.data(), a.xs.data(), n, a.v.data());
    for (int32_t i = 0; i < n; ++i) RopeApply(row(a.q, i, dim), m.n_heads, hd, rope_of[i]);
    // Every K/V of the step is stored before any query reads (the CPU's order).
    for (int32_t i = 0; i < n; ++i) {
      const StepToken& t = step.tokens[i];
      std::memcpy(a.key.data(), row(a.k, i, kv_dim), static_cast<size_t>(kv_dim) * sizeof(float));
      if (!view_of[i].rule.IsSink(t.position)) {
        RopeApply(a.key.data(), m.n_kv_heads, hd, rope_of[i]);  // Λ sinks: RoPE at read time
      }
      const int32_t page =
          LookupPage(view_of[i].pages, view_of[i].page_count, t.position, m.page_size);
      StoreKv(mem, pool, page, static_cast<int32_t>(t.position % m.page_size), l, t.position,
              a.key.data(), row(a.v, i, kv_dim));
    }
    for (int32_t i = 0; i < n; ++i) {
      const StepToken& t = step.tokens[i];
      const StepSequence& s = step.sequences[t.sequence];
      const int64_t sinks = s.rule.SinkCount(t.position);
      a.sink_rows.resize(static_cast<size_t>(sinks) * hd);
      for (int64_t j = 0; j < sinks; ++j) {
        const int32_t r =
            RopeRowOf(s, s.rule.SinkRopePosition(t.position, static_cast<int32_t>(j)));
        std::memcpy(a.sink_rows.data() + j * hd, step.rope.data() + static_cast<int64_t>(r) * hd,
                    static_cast<size_t>(hd) * sizeof(float));
      }
      const int32_t e =
          LambdaAttend(mem, pool, l, view_of[i], t.position, m.n_heads, row(a.q, i, dim),
                       a.sink_rows.data(), row(a.attn, i, dim), &scratch);
      if (e != kKernelOk) return e;  // checked up front: cannot happen
    }
    QuantizeRows(a.attn.data(), n, dim, a);
    RceLinear(mem, layer.o, a.xq.data(), a.xs.data(), n, a.proj.data());
    for (size_t i = 0; i < rows * dim; ++i) a.x[i] += a.proj[i];

    // Feed-forward block.
    NormThenQuantize(mem, layer.ffn_norm, m, n, nullptr, a);
    RceLinear(mem, layer.gate, a.xq.data(), a.xs.data(), n, a.gate.data());
    RceLinear(mem, layer.up, a.xq.data(), a.xs.data(), n, a.up.data());
    SwiGluRow(a.gate.data(), a.up.data(), static_cast<int64_t>(rows) * hidden);
    QuantizeRows(a.gate.data(), n, hidden, a);
    RceLinear(mem, layer.down, a.xq.data(), a.xs.data(), n, a.proj.data());
    for (size_t i = 0; i < rows * dim; ++i) a.x[i] += a.proj[i];
  }

  // The head, for the tokens that want logits (in token order), as one batch.
  std::vector<int32_t> heads;
  for (int32_t i = 0; i < n; ++i) {
    if (step.tokens[i].logits_row >= 0) heads.push_back(i);
  }
  if (heads.empty()) return kKernelOk;
  const int32_t mh = static_cast<int32_t>(heads.size());
  NormThenQuantize(mem, m.final_norm, m, mh, heads.data(), a);
  std::vector<float> logits(static_cast<size_t>(mh) * m.vocab);
  Int8Head(mem, m.head, a.xq.data(), a.xs.data(), mh, logits.data());
  const uint64_t row_bytes = static_cast<uint64_t>(m.vocab) * sizeof(float);
  for (int32_t j = 0; j < mh; ++j) {
    const uint64_t r = static_cast<uint64_t>(step.tokens[heads[j]].logits_row);
    std::memcpy(mem.WritePart<uint8_t>(logits_out, r * row_bytes, row_bytes),
                logits.data() + static_cast<int64_t>(j) * m.vocab, row_bytes);
  }
  return kKernelOk;
}

}  // namespace accllm::fpga

#define ACCLLM_GMEM_PORT(n) \
  ACCLLM_HLS(INTERFACE m_axi port = gmem##n offset = slave bundle = gmem##n)

extern "C" int32_t accllm_decoder(
    uint8_t* gmem0, uint8_t* gmem1, uint8_t* gmem2, uint8_t* gmem3, uint8_t* gmem4, uint8_t* gmem5,
    uint8_t* gmem6, uint8_t* gmem7, uint8_t* gmem8, uint8_t* gmem9, uint8_t* gmem10,
    uint8_t* gmem11, uint8_t* gmem12, uint8_t* gmem13, uint8_t* gmem14, uint8_t* gmem15,
    uint8_t* gmem16, uint8_t* gmem17, uint8_t* gmem18, uint8_t* gmem19, uint8_t* gmem20,
    uint8_t* gmem21, uint8_t* gmem22, uint8_t* gmem23, uint8_t* gmem24, uint8_t* gmem25,
    uint8_t* gmem26, uint8_t* gmem27, uint8_t* gmem28, uint8_t* gmem29, uint8_t* gmem30,
    uint8_t* gmem31, uint64_t desc_bank, uint64_t desc_offset, uint64_t desc_bytes, uint64_t cmd_bank,
    uint64_t cmd_offset, uint64_t cmd_bytes, uint64_t logits_bank, uint64_t logits_offset,
    uint64_t logits_bytes) {
  // clang-format off
  ACCLLM_GMEM_PORT(0)
  ACCLLM_GMEM_PORT(1)
  ACCLLM_GMEM_PORT(2)
  ACCLLM_GMEM_PORT(3)
  ACCLLM_GMEM_PORT(4)
  ACCLLM_GMEM_PORT(5)
  ACCLLM_GMEM_PORT(6)
  ACCLLM_GMEM_PORT(7)
  ACCLLM_GMEM_PORT(8)
  ACCLLM_GMEM_PORT(9)
  ACCLLM_GMEM_PORT(10)
  ACCLLM_GMEM_PORT(11)
  ACCLLM_GMEM_PORT(12)
  ACCLLM_GMEM_PORT(13)
  ACCLLM_GMEM_PORT(14)
  ACCLLM_GMEM_PORT(15)
  ACCLLM_GMEM_PORT(16)
  ACCLLM_GMEM_PORT(17)
  ACCLLM_GMEM_PORT(18)
  ACCLLM_GMEM_PORT(19)
  ACCLLM_GMEM_PORT(20)
  ACCLLM_GMEM_PORT(21)
  ACCLLM_GMEM_PORT(22)
  ACCLLM_GMEM_PORT(23)
  ACCLLM_GMEM_PORT(24)
  ACCLLM_GMEM_PORT(25)
  ACCLLM_GMEM_PORT(26)
  ACCLLM_GMEM_PORT(27)
  ACCLLM_GMEM_PORT(28)
  ACCLLM_GMEM_PORT(29)
  ACCLLM_GMEM_PORT(30)
  ACCLLM_GMEM_PORT(31)
  ACCLLM_HLS(INTERFACE s_axilite port = return)
  // clang-format on
  using accllm::fpga::DeviceMemory;
  using accllm::fpga::DeviceRef;
  DeviceMemory mem;  // no counters on the card (the emulated card calls DecoderStep)
  uint8_t* const ports[accllm::fpga::kMaxBanks] = {
      gmem0,  gmem1,  gmem2,  gmem3,  gmem4,  gmem5,  gmem6,  gmem7,  gmem8,  gmem9,  gmem10,
      gmem11, gmem12, gmem13, gmem14, gmem15, gmem16, gmem17, gmem18, gmem19, gmem20, gmem21,
      gmem22, gmem23, gmem24, gmem25, gmem26, gmem27, gmem28, gmem29, gmem30, gmem31};
  for (int b = 0; b < accllm::fpga::kMaxBanks; ++b) mem.base[b] = ports[b];
  // Scalars are 64-bit on the wire (XRT sets every scalar the host passes as uint64); a bank
  // of -1 (no logits) arrives as its two's complement.
  auto ref = [](uint64_t bank, uint64_t offset, uint64_t bytes) {
    return DeviceRef{static_cast<int32_t>(static_cast<int64_t>(bank)), offset, bytes};
  };
  return accllm::fpga::DecoderStep(mem, ref(desc_bank, desc_offset, desc_bytes),
                                   ref(cmd_bank, cmd_offset, cmd_bytes),
                                   ref(logits_bank, logits_offset, logits_bytes));
}
