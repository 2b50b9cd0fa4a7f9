#include "workers/fpga/cost/cost_model.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"           // absl::StrCat
#include "absl/strings/str_format.h"        // absl::StrFormat
#include "model/tensor_names.h"             // LinearShape, kAllLayerLinears
#include "workers/fpga/cost/dsp_packing.h"  // ProductsPerDsp

namespace accllm::fpga {
namespace {

constexpr int kNumLinears = static_cast<int>(std::size(kAllLayerLinears));

// DSP cycles (MACs / products per DSP) of every linear for one token.
double LinearDspCycles(const CostInputs& in) {
  double cycles = 0;
  for (int l = 0; l < in.model.n_layers; ++l) {
    for (int i = 0; i < kNumLinears; ++i) {
      const MatrixShape s = LinearShape(in.model, kAllLayerLinears[i]);
      const WeightFormat* f = in.quant.LayerFormat(LinearPrefix(l, i));
      double macs = static_cast<double>(s.rows) * static_cast<double>(s.cols);
      if (f != nullptr && f->sparsity == Sparsity::k2of4) macs /= 2;  // the zeros are skipped
      cycles += macs / ProductsPerDsp(in.card, f ? f->bits : 16, in.quant.activation_bits);
    }
  }
  return cycles;
}

int HeadBits(const CostInputs& in) {
  return in.model.tie_embeddings ? in.quant.embedding_bits : in.quant.lm_head_bits;
}

double HeadDspCycles(const CostInputs& in) {
  return static_cast<double>(in.model.vocab_size) * in.model.dim /
         ProductsPerDsp(in.card, HeadBits(in), in.quant.activation_bits);
}

// DSP cycles of q.k and p.v of one query over `attended` positions, all layers.
double AttentionDspCycles(const CostInputs& in, double attended) {
  return 2.0 * in.model.n_layers * in.model.n_heads * in.model.head_dim() * attended /
         ProductsPerDsp(in.card, in.quant.kv_cache.bits, in.quant.activation_bits);
}

// Sum over n in [a, b] of min(n, cap): the positions the queries of a chunk attend to.
double SumMin(int64_t a, int64_t b, int64_t cap) {
  if (b < a) return 0;
  auto tri = [](double lo, double hi) { return (lo + hi) * (hi - lo + 1) / 2; };  // lo + ... + hi
  if (b <= cap) return tri(a, b);
  if (a > cap) return static_cast<double>(cap) * (b - a + 1);
  return tri(a, cap) + static_cast<double>(cap) * (b - cap);
}

std::string Gb(double bytes) { return absl::StrFormat("%.3f GB", bytes / 1e9); }

}  // namespace

absl::StatusOr<CostEstimate> EstimateCost(const CostInputs& in_arg) {
  CostInputs in = in_arg;
  if (absl::Status s = ValidateConfig(in.model); !s.ok()) return s;
  if (absl::Status s = ValidateQuantizationConfig(in.quant); !s.ok()) return s;
  if (in.clock_hz == 0) in.clock_hz = in.card.default_clock_hz;
  if (in.power_w == 0) in.power_w = in.card.default_board_power_w;
  if (in.engine_dsps == 0) in.engine_dsps = in.card.dsp_slices;
  if (in.context == 0) in.context = in.model.max_seq_len;
  if (!(in.clock_hz > 0 && in.clock_hz <= 1e9)) {
    return absl::InvalidArgumentError(absl::StrCat("clock must be in (0, 1000] MHz, got ",
                                                   in.clock_hz / 1e6, " MHz"));
  }
  if (!(in.power_w > 0)) return absl::InvalidArgumentError("power must be > 0 W");
  if (in.engine_dsps < 1 || in.engine_dsps > in.card.dsp_slices) {
    return absl::InvalidArgumentError(absl::StrCat("engine DSPs must be in 1..", in.card.dsp_slices,
                                                   ", got ", in.engine_dsps));
  }
  if (!(in.hbm_efficiency >= 0 && in.hbm_efficiency <= 1)) {
    return absl::InvalidArgumentError("HBM efficiency must be in [0, 1]");
  }
  if (in.context > (int64_t{1} << 32)) {
    return absl::InvalidArgumentError(absl::StrCat("context ", in.context, " is too large"));
  }
  if (in.prefill_chunk < 1 || in.launches_per_decode_step < 0) {
    return absl::InvalidArgumentError("prefill chunk must be >= 1 and launches >= 0");
  }
  absl::StatusOr<HbmBytes> step = DecodeStepBytes(in.model, in.quant, in.window, in.context, in.batch);
  if (!step.ok()) return step.status();

  CostEstimate e;
  e.step = *step;
  e.context = in.context;
  e.clock_hz = in.clock_hz;
  e.engine_dsps = in.engine_dsps;
  e.power_w = in.power_w;
  e.bandwidth_bytes_per_s = in.hbm_efficiency > 0 ? in.hbm_efficiency * in.card.hbm_peak_bytes_per_s
                                                  : in.card.hbm_measured_bytes_per_s;
  const double dsp_rate = static_cast<double>(in.engine_dsps) * in.clock_hz;  // DSP cycles / s
  const double batch = static_cast<double>(in.batch);

  // Decode.
  const int64_t attended = AttendedPositions(in.window, in.context);
  const double decode_cycles =
      batch * (LinearDspCycles(in) + HeadDspCycles(in) + AttentionDspCycles(in, attended));
  e.hbm_s = static_cast<double>(e.step.total()) / e.bandwidth_bytes_per_s;
  e.compute_s = decode_cycles / dsp_rate;
  e.launch_s = in.launches_per_decode_step * in.card.launch_overhead_s;
  const double core = std::max(e.hbm_s, e.compute_s);
  e.decode_step_s = core + e.launch_s;
  e.decode_tok_s = batch / e.decode_step_s;
  e.hbm_bytes_per_token = static_cast<double>(e.step.total()) / batch;
  e.bound = e.launch_s > core ? "launch" : (e.hbm_s >= e.compute_s ? "hbm" : "compute");
  e.dsp_used = static_cast<int32_t>(
      std::min<double>(in.engine_dsps, std::ceil(in.engine_dsps * e.compute_s / core)));
  e.tok_per_joule = e.decode_tok_s / in.power_w;

  // Prefill of one prompt of `context` tokens in chunks.
  const int64_t cap = in.window.dense ? in.context : int64_t{in.window.sinks} + in.window.window;
  const int64_t kv_heads = int64_t{in.model.n_layers} * in.model.n_kv_heads;
  const int64_t kv_pos_bytes = KvPositionBytes(in.quant.kv_cache, in.model.head_dim(),
                                               in.quant.kv_cache.sink_tokens);  // a quantized one
  const double per_token_cycles = LinearDspCycles(in);
  double prefill_s = 0;
  for (int64_t begin = 0; begin < in.context; begin += in.prefill_chunk) {
    const int64_t end = std::min(in.context, begin + in.prefill_chunk);
    const int64_t tokens = end - begin;
    // The chunk reads the union of its queries' positions once (tile reuse) and writes its own.
    const int64_t read_positions = std::min<int64_t>(end, cap + tokens - 1);
    double bytes = static_cast<double>(e.step.weights + e.step.norms) +
                   static_cast<double>(kv_heads * kv_pos_bytes) * (read_positions + tokens) +
                   static_cast<double>(tokens) * e.step.embedding / batch;
    double cycles = per_token_cycles * tokens + AttentionDspCycles(in, SumMin(begin + 1, end, cap));
    if (end == in.context) {  // logits only for the prompt's last token
      bytes += static_cast<double>(e.step.head);
      cycles += HeadDspCycles(in);
    }
    prefill_s += std::max(bytes / e.bandwidth_bytes_per_s, cycles / dsp_rate) +
                 in.card.launch_overhead_s;
  }
  e.prefill_tok_s = static_cast<double>(in.context) / prefill_s;

  // Residency: the whole embedding table lives in HBM; the KV pool holds the Λ positions.
  int64_t params = 0;
  for (int i = 0; i < kNumLinears; ++i) {
    const MatrixShape s = LinearShape(in.model, kAllLayerLinears[i]);
    params += s.rows * s.cols;
  }
  params *= in.model.n_layers;
  e.weight_bits_per_weight = 8.0 * static_cast<double>(e.step.weights) / static_cast<double>(params);
  const int64_t table_rows = in.model.tie_embeddings ? 0 : in.model.vocab_size;
  const int64_t emb_row_bytes = e.step.embedding / in.batch;
  e.hbm_resident_bytes = e.step.weights + e.step.head + table_rows * emb_row_bytes +
                         in.batch * kv_heads * attended * kv_pos_bytes;
  e.fits_hbm = e.hbm_resident_bytes <= in.card.hbm_bytes;

  // What the numbers rest on.
  e.assumptions = in.card.sources;
  const double measured = in.card.hbm_measured_bytes_per_s;
  e.assumptions.push_back(
      {"bandwidth_used", absl::StrFormat("%.0f GB/s (%.1f%% of peak)", e.bandwidth_bytes_per_s / 1e9,
                                         100 * e.bandwidth_bytes_per_s / in.card.hbm_peak_bytes_per_s),
       in.hbm_efficiency > 0
           ? (in.hbm_efficiency_source.empty() ? std::string("given efficiency")
                                               : in.hbm_efficiency_source)
           : absl::StrFormat("the card's measured streaming bandwidth (%.0f GB/s): an engine that "
                             "streams weights like Shuhai's benchmark",
                             measured / 1e9)});
  e.assumptions.push_back(
      {"clock_used", absl::StrFormat("%.0f MHz", in.clock_hz / 1e6), "--clock-mhz (default: card)"});
  const WeightFormat* f0 = in.quant.LayerFormat(LinearPrefix(0, 0));
  const int wbits = f0 ? f0->bits : 16;
  e.assumptions.push_back(
      {"dsp_packing",
       absl::StrFormat("%d products/DSP for W%d x A%d (head W%d: %d, attention KV%d: %d)",
                       ProductsPerDsp(in.card, wbits, in.quant.activation_bits), wbits,
                       in.quant.activation_bits, HeadBits(in),
                       ProductsPerDsp(in.card, HeadBits(in), in.quant.activation_bits),
                       in.quant.kv_cache.bits,
                       ProductsPerDsp(in.card, in.quant.kv_cache.bits, in.quant.activation_bits)),
       "weights packed in the 27-bit A:D path at product width + 1 bit (Xilinx WP486's INT8 "
       "packing generalized); 2:4 skips the pruned half"});
  e.assumptions.push_back({"engine_dsps", absl::StrCat(in.engine_dsps),
                           in.engine_dsps == in.card.dsp_slices
                               ? "upper bound: every DSP48E2 of the card in the compute engine"
                               : "given engine size"});
  e.assumptions.push_back(
      {"attention",
       in.window.dense ? std::string("dense")
                       : absl::StrFormat("lambda S=%d W=%d: %d positions read per query", in.window.sinks,
                                         in.window.window, attended),
       "DESIGN.md: Λ-shaped attention (sinks + window); KV sinks stored fp16"});
  e.assumptions.push_back(
      {"decode_bytes",
       absl::StrFormat("weights %s (%.3f bits/weight), head %s, KV %s per step", Gb(e.step.weights),
                       e.weight_bits_per_weight, Gb(e.step.head),
                       Gb(e.step.kv_read + e.step.kv_write)),
       "hbm_traffic.h: PackedLayout bytes (codes + fp16 scales/zeros + 2:4 masks), int8 head with "
       "fp16 row scales, KV codes + fp16 scale/zero per token per head"});
  e.assumptions.push_back(
      {"launches", absl::StrFormat("%d per decode step, 1 per prefill chunk of %d tokens",
                                   in.launches_per_decode_step, in.prefill_chunk),
       "DESIGN.md: a decode step is at most two kernel launches"});
  e.assumptions.push_back(
      {"overlap", "max(HBM, compute) per step",
       "weights do not depend on activations, so the engine prefetches the next op's weights"});
  e.assumptions.push_back(
      {"hbm_resident", absl::StrFormat("%s of %s%s", Gb(e.hbm_resident_bytes),
                                       Gb(static_cast<double>(in.card.hbm_bytes)),
                                       e.fits_hbm ? "" : " (does NOT fit)"),
       "weights + head + embedding table + the batch's KV positions"});
  return e;
}

}  // namespace accllm::fpga
