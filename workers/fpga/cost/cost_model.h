// The U280 cost model behind `accllm fpga-model`: from a model's shape and compression, a card
// and a workload (context, batch) to decode and prefill tok/s, HBM bytes per token, the binding
// limit, DSPs used and tok/J — a roofline with every input traced to a source (Assumption).
//
// Decode (MV mode: each weight word streamed once from HBM per step, batch sequences share it):
//   step = max(hbm_bytes(step) / bandwidth, dsp_cycles(step) / (dsps * clock))
//          + launches_per_step * launch_overhead
//   hbm_bytes(step) is DecodeStepBytes (hbm_traffic.h); dsp_cycles sums, over every multiply of
//   the step, MACs / ProductsPerDsp(weight bits, activation bits) with 2:4 counting only the
//   kept half. Streaming and compute overlap (weights do not depend on activations, so the next
//   op's weights prefetch while the current one drains): max, not sum.
//   bound = "launch" when the launches cost more than the max term, else "hbm" or "compute".
// Prefill (MM mode: a chunk of `prefill_chunk` prompt tokens reuses each weight word):
//   per chunk max(bytes / bandwidth, dsp_cycles / (dsps * clock)) + one launch; the head runs
//   for the prompt's last token only. prefill_tok_s = prompt tokens / total.
//
// Calibration (tests/workers/fpga/cost/cost_model_test.cc): Llama-2-7B, 2:4 W2 g64 A8 KV4,
// Λ(4, 1024), context 4096, U280 at 225 MHz with Shuhai's measured 425 GB/s gives ~183 tok/s,
// +11% over AccLLM's reported 164 tok/s (which corresponds to ~377 GB/s effective, 82% of
// the 460 GB/s peak, for these bytes). At short context the same model gives ~195 tok/s
// (+19%): the difference is the Λ-capped KV4 cache (~140 MB per step). The model prices an
// engine that reaches the card's measured streaming bandwidth; no constant is fitted.
#ifndef ACCLLM_WORKERS_FPGA_COST_COST_MODEL_H_
#define ACCLLM_WORKERS_FPGA_COST_COST_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"               // absl::StatusOr
#include "model/attention_window.h"             // AttentionWindow
#include "model/config.h"                       // ModelConfig
#include "quant/quantization_config.h"          // QuantizationConfig
#include "workers/fpga/cost/card_spec.h"        // CardSpec, Assumption
#include "workers/fpga/cost/hbm_traffic.h"      // HbmBytes

namespace accllm::fpga {

struct CostInputs {
  ModelConfig model;
  QuantizationConfig quant;  // per-linear formats; activation, KV, embedding and head bits
  AttentionWindow window = AttentionWindow::Lambda(4, 1024);
  CardSpec card;
  double clock_hz = 0;           // 0: card.default_clock_hz
  int64_t context = 0;           // sequence length at the decode step (incl. the new token);
                                 // 0: model.max_seq_len
  int64_t batch = 1;             // sequences per decode step
  double power_w = 0;            // 0: card.default_board_power_w
  // Sustained fraction of card.hbm_peak_bytes_per_s; 0: the card's measured streaming
  // bandwidth (Shuhai). Set it to model a design with a published utilization (FlightLLM).
  double hbm_efficiency = 0;
  std::string hbm_efficiency_source;  // printed with the assumption when hbm_efficiency is set
  int32_t engine_dsps = 0;       // DSP slices of the compute engine; 0: all of the card's
  int32_t launches_per_decode_step = 2;  // DESIGN.md: a decode step is at most two launches
  int64_t prefill_chunk = 512;   // prompt tokens per MM-mode weight pass
};

struct CostEstimate {
  double decode_tok_s = 0;         // tokens per second over the whole batch
  double decode_step_s = 0;
  double prefill_tok_s = 0;        // one prompt of `context` tokens
  double hbm_bytes_per_token = 0;  // step.total() / batch
  HbmBytes step;                   // one decode step's bytes, by kind
  std::string bound;               // "hbm" | "compute" | "launch"
  double hbm_s = 0, compute_s = 0, launch_s = 0;  // decode step terms
  double bandwidth_bytes_per_s = 0;
  double clock_hz = 0;
  int64_t context = 0;
  int32_t engine_dsps = 0;
  int32_t dsp_used = 0;            // DSPs decode keeps busy to keep pace with the step
  double power_w = 0;
  double tok_per_joule = 0;        // decode
  double weight_bits_per_weight = 0;  // all linears: stored bits / parameters
  int64_t hbm_resident_bytes = 0;  // weights + head + embedding table + the batch's KV
  bool fits_hbm = true;
  std::vector<Assumption> assumptions;
};

absl::StatusOr<CostEstimate> EstimateCost(const CostInputs& inputs);

}  // namespace accllm::fpga

#endif  // ACCLLM_WORKERS_FPGA_COST_COST_MODEL_H_
