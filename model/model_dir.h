// A model directory opened for use: config.json + tensors + optional tokenizer.
#ifndef ACCLLM_MODEL_MODEL_DIR_H_
#define ACCLLM_MODEL_MODEL_DIR_H_

#include <filesystem>
#include <memory>

#include "absl/status/status.h"           // absl::Status
#include "absl/status/statusor.h"         // absl::StatusOr
#include "model/config.h"                 // ModelConfig
#include "model/tensor_store.h"           // TensorStore
#include "model/tokenizer/tokenizer.h"    // Tokenizer

namespace accllm {

struct ModelDir {
  std::filesystem::path path;
  ModelConfig config;
  std::shared_ptr<const TensorStore> tensors;  // mmap-ed; views live as long as this
  std::shared_ptr<const Tokenizer> tokenizer;  // null: the model works with token ids only
};

// Opens and checks a model directory: the config is valid and every tensor the config implies
// exists with a floating-point dtype and the right shape. In a quantized directory (config.json
// has a quantization_config block) a linear, the embedding or the head may instead be stored as
// "<prefix>.qweight" (+ .scales ...): those are checked against the block by the engine's loader
// (LlamaModel::Load), since model/ does not depend on quant/.
absl::StatusOr<ModelDir> OpenModelDir(const std::filesystem::path& dir);

// The check OpenModelDir applies, usable on any store (importers run it on their output).
absl::Status CheckFloatTensors(const ModelConfig& config, const TensorStore& tensors,
                               const std::filesystem::path& where);

// CheckFloatTensors for a float config; for a quantized one, float tensors are checked only
// where they are present and a missing "<prefix>.weight" needs "<prefix>.qweight".
absl::Status CheckModelTensors(const ModelConfig& config, const TensorStore& tensors,
                               const std::filesystem::path& where);

class SafetensorsWriter;

// Writes a model directory: the writer's tensors, config.json (validated) and,
// when `tokenizer_file` is non-empty, a copy of it under its own file name
// (tokenizer.model or tokenizer.bin). Creates `dir` if needed.
absl::Status WriteModelFiles(const std::filesystem::path& dir, const ModelConfig& config,
                             const SafetensorsWriter& tensors,
                             const std::filesystem::path& tokenizer_file = {});

}  // namespace accllm

#endif  // ACCLLM_MODEL_MODEL_DIR_H_
