// Hugging Face Llama directories (config.json + model.safetensors or shards,
// F32/F16/BF16) imported into an accllm model directory.
#ifndef ACCLLM_MODEL_HF_IMPORT_H_
#define ACCLLM_MODEL_HF_IMPORT_H_

#include <filesystem>
#include <optional>

#include "absl/status/status.h"  // absl::Status
#include "model/dtype.h"         // DType

namespace accllm {

struct HfImportOptions {
  std::optional<DType> dtype;  // output dtype; default: each tensor keeps its own (F64 → F32)
};

// Our layout is HF's (tensor names, [out, in] rows, q/k rows in HF's half-split
// RoPE order), so importing validates, selects the tensors the engine uses,
// converts dtypes and copies the tokenizer; no row permutation is needed.
absl::Status ImportHuggingFace(const std::filesystem::path& in_dir,
                               const std::filesystem::path& out_dir,
                               const HfImportOptions& options);

}  // namespace accllm

#endif  // ACCLLM_MODEL_HF_IMPORT_H_
