// The float32 reference forward pass of a Llama-family decoder: embedding →
// N × (RMSNorm → GQA attention with RoPE → residual → RMSNorm → SwiGLU → residual)
// → RMSNorm → head. Clarity over speed: this is the oracle that quantized and
// accelerated paths are compared with. A quantized directory runs through the
// same Forward: its Linear / embedding / head objects come from LinearLoader.
#ifndef ACCLLM_WORKERS_ENGINE_LLAMA_MODEL_H_
#define ACCLLM_WORKERS_ENGINE_LLAMA_MODEL_H_

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/status.h"              // absl::Status
#include "absl/status/statusor.h"            // absl::StatusOr
#include "model/model_dir.h"                 // ModelDir
#include "workers/engine/activation_observer.h"  // ActivationObserver
#include "quant/kv_quant.h"                  // KvFormat
#include "workers/engine/embedding_table.h"  // EmbeddingTable
#include "workers/engine/linear.h"           // Linear
#include "workers/engine/linear_loader.h"    // LoadOptions
#include "workers/engine/phase_clock.h"      // PhaseTotals
#include "model/rope.h"             // Rope
#include "workers/engine/sequence_kv.h"      // SequenceKv
#include "workers/engine/weight_matrix.h"    // WeightMatrix

namespace accllm {

class LlamaModel {
 public:
  // Keeps the directory's tensors mapped for as long as the model lives.
  // A quantized directory (config.json's quantization_config) is run as it is stored: packed
  // weights with A8 or A16 activations, online rotations, int8 embedding/head.
  static absl::StatusOr<std::unique_ptr<LlamaModel>> Load(const ModelDir& dir,
                                                          const LoadOptions& options = {});

  const ModelConfig& config() const { return config_; }
  // The KV cache the model wants (bits 16 = float; a float model's is the default KvFormat).
  // MakeSequenceKv / MakeKvPagePool (kv_factory.h) build the matching cache.
  const KvFormat& kv_format() const { return kv_format_; }
  // Average stored bits per linear weight (scales, zeros, masks included; a float layer
  // counts its dtype's width). Embedding and head are excluded.
  double LinearBitsPerWeight() const { return linear_bits_per_weight_; }
  // Bytes of weights one decode step streams: every linear of every layer and the head
  // (the embedding is read one row per token, not counted).
  int64_t WeightBytesPerStep() const;

  // Runs `token` at position `pos` (the cache holds what the sequence attends
  // to before `pos`), stores its K/V at `pos` and writes the vocab_size logits of
  // the next token. Empty `logits` skips the head (prefill tokens but the last).
  absl::Status Forward(int32_t token, int64_t pos, SequenceKv& kv, std::span<float> logits) const;

  // One token of a batched step.
  struct BatchToken {
    int32_t token = 0;
    int64_t pos = 0;
    SequenceKv* kv = nullptr;  // the token's sequence
    std::span<float> logits;   // [vocab_size], or empty: no head for this token
  };
  // Runs many tokens (of many sequences, prefill chunks and decode tokens) as one step:
  // every linear sees all of them as one GEMM, so the weights stream once per step;
  // attention runs per token over its own sequence's cache. A sequence's tokens must
  // appear in increasing position order. Each token's results equal Forward's, bit for bit.
  absl::Status ForwardBatch(std::span<const BatchToken> batch) const;
  // The checks ForwardBatch makes before running anything (token id, KV coverage, logits).
  absl::Status CheckToken(const BatchToken& t) const;

  // Calibration tap: Forward reports each linear's input to `observer` (null: none). Not
  // thread-safe with concurrent Forward calls; only `accllm quantize` sets it.
  void set_observer(ActivationObserver* observer) const { observer_ = observer; }

  // Wall time ForwardBatch spent per phase since the model was loaded (EnginePhase order).
  std::array<double, kEnginePhaseCount> PhaseSeconds() const { return phase_totals_.Seconds(); }

 private:
  struct Layer {
    std::vector<float> attn_norm, ffn_norm;  // [dim]
    // [dim|kv_dim, dim], wo [dim, dim]; gate/up [hidden, dim], down [dim, hidden]
    std::shared_ptr<const Linear> wq, wk, wv, wo, gate, up, down;
  };

  ModelConfig config_;
  std::shared_ptr<const TensorStore> tensors_;
  std::shared_ptr<const EmbeddingTable> embedding_;  // [vocab, dim]
  std::vector<Layer> layers_;
  std::vector<float> final_norm_;  // [dim]
  std::shared_ptr<const Linear> head_;  // [vocab, dim]; the embedding's storage when tied
  KvFormat kv_format_;
  double linear_bits_per_weight_ = 32;
  Rope rope_;
  mutable ActivationObserver* observer_ = nullptr;  // a tap, not part of the model's state
  mutable PhaseTotals phase_totals_;                // a measurement, not the model's state
  std::shared_ptr<SharedThreadPool> pool_;  // the kernels' threads (null: one thread)
};

// RMSNorm: out = x / sqrt(mean(x²) + eps) * weight.
void RmsNorm(std::span<const float> x, std::span<const float> weight, float eps,
             std::span<float> out);

}  // namespace accllm

#endif  // ACCLLM_WORKERS_ENGINE_LLAMA_MODEL_H_
