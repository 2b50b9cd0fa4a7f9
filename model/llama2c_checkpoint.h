// llama2.c checkpoints (Karpathy's run.c format, "version 0"): a 7 × int32
// header, then float32 weights in a fixed order; a negative vocab_size means the
// classifier is stored separately instead of shared with the embedding.
#ifndef ACCLLM_MODEL_LLAMA2C_CHECKPOINT_H_
#define ACCLLM_MODEL_LLAMA2C_CHECKPOINT_H_

#include <filesystem>
#include <memory>
#include <span>

#include "absl/status/status.h"    // absl::Status
#include "absl/status/statusor.h"  // absl::StatusOr
#include "model/config.h"          // ModelConfig
#include "model/dtype.h"           // DType

namespace accllm {

class MappedFile;

// The checkpoint mapped and validated; spans point into the mapping and keep
// llama2.c's layout (RoPE on interleaved pairs, weights [out][in] per layer).
struct Llama2cCheckpoint {
  ModelConfig config;
  std::shared_ptr<const MappedFile> file;
  std::span<const float> embedding;    // [vocab, dim]
  std::span<const float> rms_att;      // [layers, dim]
  std::span<const float> wq, wk, wv;   // [layers, out, dim]
  std::span<const float> wo;           // [layers, dim, dim]
  std::span<const float> rms_ffn;      // [layers, dim]
  std::span<const float> w1, w2, w3;   // gate [L, hidden, dim], down [L, dim, hidden], up
  std::span<const float> rms_final;    // [dim]
  std::span<const float> classifier;   // [vocab, dim]: the embedding when shared
};

// Errors name the file and what is wrong (bad header field, size mismatch).
absl::StatusOr<Llama2cCheckpoint> ReadLlama2cCheckpoint(const std::filesystem::path& path);

struct Llama2cImportOptions {
  DType dtype = DType::kF32;             // stored dtype of the output weights
  std::filesystem::path tokenizer_bin;   // optional llama2.c tokenizer.bin to copy
};

// Writes a model directory. q/k rows are permuted from llama2.c's interleaved
// RoPE pairs to the half-split order of Hugging Face's layout, which the engine uses.
absl::Status ImportLlama2c(const std::filesystem::path& checkpoint,
                           const std::filesystem::path& out_dir,
                           const Llama2cImportOptions& options);

// Row permutation between the two RoPE conventions for one [n_heads*head_dim, cols]
// matrix: HF row (h, half, j) holds interleaved row (h, 2j + half).
void InterleavedToHalfSplitRows(std::span<const float> in, int n_heads, int head_dim, int cols,
                                std::span<float> out);

}  // namespace accllm

#endif  // ACCLLM_MODEL_LLAMA2C_CHECKPOINT_H_
