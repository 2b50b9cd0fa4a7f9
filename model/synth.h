// Random-weight models of real shapes, so speed work and the default model need
// no download. Speed does not depend on the weights' values.
#ifndef ACCLLM_MODEL_SYNTH_H_
#define ACCLLM_MODEL_SYNTH_H_

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"    // absl::Status
#include "absl/status/statusor.h"  // absl::StatusOr
#include "model/config.h"          // ModelConfig
#include "model/dtype.h"           // DType

namespace accllm {

// "tiny" (a few MB, for tests and the default model), "tinyllama-1.1b", "llama2-7b".
std::vector<std::string> SynthShapeNames();
absl::StatusOr<ModelConfig> SynthShape(std::string_view name);

struct SynthOptions {
  uint64_t seed = 0;
  std::optional<DType> dtype;  // default: F32 for tiny, F16 for the large shapes
};

// Writes config.json, model.safetensors (weights ~ uniform with std 0.02, norms 1)
// and a llama2.c tokenizer.bin with a synthetic vocabulary of exactly vocab_size pieces.
absl::Status WriteSynthModel(const ModelConfig& config, const std::filesystem::path& out_dir,
                             const SynthOptions& options);

}  // namespace accllm

#endif  // ACCLLM_MODEL_SYNTH_H_
