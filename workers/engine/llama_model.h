// The float32 reference forward pass of a Llama-family decoder: embedding →
// N × (RMSNorm → GQA attention with RoPE → residual → RMSNorm → SwiGLU → residual)
// → RMSNorm → head. Clarity over speed: this is the oracle that quantized and
// accelerated paths are compared with.
#ifndef ACCLLM_WORKERS_ENGINE_LLAMA_MODEL_H_
#define ACCLLM_WORKERS_ENGINE_LLAMA_MODEL_H_

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/status.h"              // absl::Status
#include "absl/status/statusor.h"            // absl::StatusOr
#include "model/model_dir.h"                 // ModelDir
#include "workers/engine/linear.h"           // Linear
#include "workers/engine/rope.h"             // Rope
#include "workers/engine/sequence_kv.h"      // SequenceKv
#include "workers/engine/weight_matrix.h"    // WeightMatrix

namespace accllm {

class LlamaModel {
 public:
  // Keeps the directory's tensors mapped for as long as the model lives.
  static absl::StatusOr<std::unique_ptr<LlamaModel>> Load(const ModelDir& dir);

  const ModelConfig& config() const { return config_; }

  // Runs `token` at position `pos` (the cache holds what the sequence attends
  // to before `pos`), stores its K/V at `pos` and writes the vocab_size logits of
  // the next token. Empty `logits` skips the head (prefill tokens but the last).
  absl::Status Forward(int32_t token, int64_t pos, SequenceKv& kv, std::span<float> logits) const;

 private:
  struct Layer {
    std::vector<float> attn_norm, ffn_norm;  // [dim]
    // [dim|kv_dim, dim], wo [dim, dim]; gate/up [hidden, dim], down [dim, hidden]
    std::shared_ptr<const Linear> wq, wk, wv, wo, gate, up, down;
  };

  ModelConfig config_;
  std::shared_ptr<const TensorStore> tensors_;
  WeightMatrix embedding_;  // [vocab, dim]
  std::vector<Layer> layers_;
  std::vector<float> final_norm_;  // [dim]
  WeightMatrix head_;              // [vocab, dim]; the embedding when tied
  Rope rope_;
};

// RMSNorm: out = x / sqrt(mean(x²) + eps) * weight.
void RmsNorm(std::span<const float> x, std::span<const float> weight, float eps,
             std::span<float> out);

}  // namespace accllm

#endif  // ACCLLM_WORKERS_ENGINE_LLAMA_MODEL_H_
