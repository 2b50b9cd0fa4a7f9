// The HBM bytes one decode step moves: the definition the cost model prices and the emulated
// card counts (tests compare the two within 1%).
//
// A decode step runs `batch` sequences, each producing one token at position t = context - 1
// (`context` = sequence length including the new token, >= 1). Per step:
//
//   weights    every linear of every layer once, packed exactly as quant/weight_format.h's
//              PackedLayout: qweight bytes (row-padded codes) + fp16 scales + fp16 zeros
//              (uniform) + 2:4 masks, i.e. PackedLayout::total_bits() / 8, with each linear's
//              format from the QuantizationConfig. A linear the config leaves float counts
//              rows * cols * 2 (it would be streamed as fp16).
//   head       the LM head once: bits 8 -> vocab * dim int8 + vocab * 2 (fp16 row scales);
//              16 -> vocab * dim * 2; 32 -> vocab * dim * 4. A tied head reads the embedding
//              table, so it takes embedding_bits.
//   norms      the RMSNorm weights once: (2 * n_layers + 1) * dim float32.
//   embedding  one embedding row per sequence: bits 8 -> dim + 2 (int8 row + fp16 scale);
//              16 -> dim * 2; 32 -> dim * 4.
//   kv_read    per sequence, per layer, per KV head, per attended position p (the positions
//              p <= t the query attends to: min(context, S + W) under Λ(S, W), context when
//              dense; the new token's own K/V included), K and V each:
//                quantized (kv bits < 16 and p >= KvFormat::sink_tokens):
//                  KvCodeBytes(head_dim, bits) + 4 (fp16 scale + fp16 zero);
//                fp16 (sinks, or kv bits 16): 2 * head_dim.
//   kv_write   per sequence, per layer, per KV head: K and V of position t, same sizes.
//
// Not counted (each < 0.1% for the shapes here): the kernel's descriptors, RoPE tables (host
// tables in the step's command), activations (kept on chip between the step's two launches), logits (sampling on the
// card returns one id). Per token figures divide the step's bytes by the batch.
#ifndef ACCLLM_WORKERS_FPGA_COST_HBM_TRAFFIC_H_
#define ACCLLM_WORKERS_FPGA_COST_HBM_TRAFFIC_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"      // absl::StatusOr
#include "model/attention_window.h"    // AttentionWindow
#include "model/config.h"              // ModelConfig
#include "quant/quantization_config.h" // QuantizationConfig

namespace accllm::fpga {

struct HbmBytes {
  int64_t weights = 0;
  int64_t head = 0;
  int64_t norms = 0;
  int64_t embedding = 0;
  int64_t kv_read = 0;
  int64_t kv_write = 0;

  int64_t total() const { return weights + head + norms + embedding + kv_read + kv_write; }
};

// The prefix of a linear's tensors, "model.layers.3.self_attn.q_proj" (LinearName minus
// ".weight"): the key of QuantizationConfig::layers.
std::string LinearPrefix(int layer, int linear_index);

// Bytes of one linear as stored: PackedLayout's total for `format`, or fp16 when null.
absl::StatusOr<int64_t> LinearBytes(const WeightFormat* format, int64_t rows, int64_t cols);

// Bytes of K + V of one position for one KV head of one layer.
int64_t KvPositionBytes(const KvFormat& kv, int64_t head_dim, int64_t position);

// Positions a query at t = context - 1 reads (its own included).
int64_t AttendedPositions(const AttentionWindow& window, int64_t context);

// The bytes of one decode step as defined above. Errors: invalid shapes / formats, context < 1,
// batch < 1.
absl::StatusOr<HbmBytes> DecodeStepBytes(const ModelConfig& model, const QuantizationConfig& quant,
                                         const AttentionWindow& window, int64_t context,
                                         int64_t batch);

// A QuantizationConfig that gives every linear of `model` the same format.
QuantizationConfig UniformQuantization(const ModelConfig& model, const WeightFormat& format,
                                       int activation_bits, const KvFormat& kv);

}  // namespace accllm::fpga

#endif  // ACCLLM_WORKERS_FPGA_COST_HBM_TRAFFIC_H_
