// Λ-shaped (or dense) attention of one query position over the KV page pool: walks the
// sequence's page table and reads exactly the positions the rule allows — the sinks p < S
// and the window t − W < p ≤ t (dense: every p ≤ t) — with the Λ sink keys (stored before
// RoPE) rotated on the fly to AttentionWindow::SinkRopePosition, then softmax and the value
// sum. Bit-identical to workers/engine/quantized_kv.cc's QuantizedSequenceKv::Attend:
//   positions with float keys (the Λ sinks, then window positions p < sink_tokens):
//     FloatScores / AddFloatValues (plain dot with the unrotated query; o += w · v);
//   quantized window positions, KV8: quant/kv_quant.cc's DotQuantizedKey /
//     AccumulateQuantizedValue with the Hadamard-rotated query; softmax w_i = e_i / Σe
//     (std::exp on both sides: bit-exact);
//   quantized window positions, KV4: the defined arithmetic of workers/cpu/kv4_attention.cc
//     (channels in the codes' split order — even channels then odd —, four fused
//     multiply-add chains j mod 4 summed (a0 + a1) + (a2 + a3), score = (s · (dot − z · Σq)) ·
//     1/√hd; values (c − z) · s accumulated by one fused multiply-add chain per channel over
//     the keys in order, then added to the float part); softmax: quant/portable_exp.h's
//     PortableSoftmaxInPlace, which the CPU's SIMD softmax computes bit for bit.
// The KV4 FMA chains assume the CPU runs an FMA target (AVX2 / AVX-512, Highway's MulAdd) and a
// head_dim that is a multiple of the SIMD width (16 floats); both hold on the hosts we serve.
#ifndef ACCLLM_WORKERS_FPGA_KERNELS_LAMBDA_ATTENTION_H_
#define ACCLLM_WORKERS_FPGA_KERNELS_LAMBDA_ATTENTION_H_

#include <cstdint>
#include <vector>

#include "model/attention_window.h"              // AttentionWindow
#include "workers/fpga/kernels/device_memory.h"  // DeviceMemory
#include "workers/fpga/kernels/kv_pool.h"        // KvPoolView, PageEntry

namespace accllm::fpga {

// Positions one query may read (sinks + window, or a dense context): the score buffers.
inline constexpr int64_t kMaxAttendPositions = int64_t{1} << 20;

// The attention rule is model/attention_window.h's (header-only, plain C++): the one rule the
// page allocator, the engine and the card share.
using AttentionRule = ::accllm::AttentionWindow;

// One sequence's view: its page table [page_count] (sorted by logical page) and its rule.
struct SequenceView {
  const PageEntry* pages = nullptr;
  int32_t page_count = 0;
  AttentionRule rule;
};

// The positions a query at `pos` reads: sinks [0, n_sinks), float window [ws, qa), quantized
// window [qa, pos] (quantized_kv.cc's FloatPositions / QuantizedWindowStart).
struct AttendRange {
  int64_t n_sinks = 0, ws = 0, qa = 0;
  int64_t total(int64_t pos) const { return n_sinks + (pos + 1 - ws); }
};
AttendRange RangeOf(const AttentionRule& rule, int32_t sink_tokens, int64_t pos);

// C-simulation scratch (on the card: on-chip buffers of kMaxAttendPositions scores and the
// float sinks / fp16 window vectors).
struct AttendScratch {
  std::vector<float> float_keys, float_values, weights;
  std::vector<KvCodesRef> keys, values;
};

// out [n_heads * head_dim] = attention of q [n_heads * head_dim] (after RoPE) at `pos`, layer
// `layer`. sink_rope: rule.SinkCount(pos) RoPE rows (elementwise.h's layout), row j for
// position rule.SinkRopePosition(pos, j). Returns 0, kErrPageNotCovered,
// kErrPageOutOfPool or kErrContextTooLong (checked before anything is computed).
int32_t LambdaAttend(const DeviceMemory& mem, const KvPoolView& pool, int32_t layer,
                     const SequenceView& seq, int64_t pos, int32_t n_heads, const float* q,
                     const float* sink_rope, float* out, AttendScratch* scratch);

// The checks LambdaAttend makes: every page the query at `pos` reads (and writes) is in the
// table and the pool. 0 or an error code.
int32_t CheckAttendPages(const KvPoolView& pool, const SequenceView& seq, int64_t pos);

}  // namespace accllm::fpga

#endif  // ACCLLM_WORKERS_FPGA_KERNELS_LAMBDA_ATTENTION_H_
