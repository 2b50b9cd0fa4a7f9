// Builds the decoder's Linear / embedding / head objects from a model directory:
// float tensors as stored (the reference path, unchanged), or, for a quantized
// directory, what its quantization_config block says (quant/quantization_config.h):
// packed layers with A8/A16 kernels, online rotations, int8 embedding and head.
// Everything is validated here, so a malformed directory fails at load with the
// tensor or field named, never in Forward.
#ifndef ACCLLM_WORKERS_ENGINE_LINEAR_LOADER_H_
#define ACCLLM_WORKERS_ENGINE_LINEAR_LOADER_H_

#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"                // absl::StatusOr
#include "model/model_dir.h"                     // ModelDir
#include "model/tensor_names.h"                  // MatrixShape
#include "quant/quantization_config.h"           // QuantizationConfig
#include "workers/engine/embedding_table.h"      // EmbeddingTable
#include "workers/engine/linear.h"               // Linear
#include "workers/engine/quantized_linear_a8.h"  // SharedThreadPool

namespace accllm {

struct LoadOptions {
  bool use_simd = true;  // false: quantized A8 layers use the scalar oracle only
  int threads = 0;       // kernel threads of the model (0: all cores)
};

class LinearLoader {
 public:
  // Parses and checks the quantization_config block (every listed layer and rotation
  // names a linear of this model).
  static absl::StatusOr<LinearLoader> Create(const ModelDir& dir, const LoadOptions& options);

  bool quantized() const { return quantized_; }
  const QuantizationConfig& quantization() const { return q_; }  // defaults for a float model

  // `weight_name`: "model.layers.0.self_attn.q_proj.weight".
  absl::StatusOr<std::shared_ptr<const Linear>> LoadLinear(const std::string& weight_name,
                                                           MatrixShape shape);
  absl::StatusOr<std::shared_ptr<const EmbeddingTable>> LoadEmbedding();
  // The head; with tied embeddings it shares the embedding's storage.
  absl::StatusOr<std::shared_ptr<const Linear>> LoadHead();

  // Stored bits / weights over every linear loaded so far (scales, zeros, masks included;
  // a float linear counts its dtype's width). Embedding and head are not linears here.
  double LinearBitsPerWeight() const;
  // The kernel threads the model's layers share.
  std::shared_ptr<SharedThreadPool> pool() const { return pool_; }

 private:
  LinearLoader() = default;

  ModelDir dir_;
  LoadOptions options_;
  bool quantized_ = false;
  QuantizationConfig q_;
  std::shared_ptr<SharedThreadPool> pool_;
  std::shared_ptr<const Linear> int8_embedding_as_head_;  // tied 8-bit: the embedding's rows
  std::shared_ptr<const EmbeddingTable> embedding_;
  double stored_bits_ = 0, weights_ = 0;
};

}  // namespace accllm

#endif  // ACCLLM_WORKERS_ENGINE_LINEAR_LOADER_H_
