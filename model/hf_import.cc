#include "model/hf_import.h"

#include <vector>

#include "absl/strings/str_cat.h"      // absl::StrCat
#include "model/config.h"              // ReadModelConfig
#include "model/model_dir.h"           // CheckFloatTensors, WriteModelFiles
#include "model/safetensors_writer.h"  // SafetensorsWriter
#include "model/tensor.h"              // ConvertToFloat32, EncodeFloat32
#include "model/tensor_names.h"        // ExpectedTensors
#include "model/tensor_store.h"        // TensorStore
#include "model/tokenizer/tokenizer.h"  // kSentencePieceFileName

namespace accllm {

namespace {
std::string TorchDTypeName(DType dtype) {
  switch (dtype) {
    case DType::kF16: return "float16";
    case DType::kBF16: return "bfloat16";
    default: return "float32";
  }
}
}  // namespace

absl::Status ImportHuggingFace(const std::filesystem::path& in_dir,
                               const std::filesystem::path& out_dir,
                               const HfImportOptions& options) {
  if (options.dtype && !(*options.dtype == DType::kF32 || *options.dtype == DType::kF16 ||
                         *options.dtype == DType::kBF16)) {
    return absl::InvalidArgumentError("output dtype must be F32, F16 or BF16");
  }
  if (std::filesystem::weakly_canonical(in_dir) == std::filesystem::weakly_canonical(out_dir)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--in and --out must be different directories, both are ", out_dir.string()));
  }
  absl::StatusOr<ModelConfig> config = ReadModelConfig(in_dir / kConfigFileName);
  if (!config.ok()) return config.status();
  if (!config->quantization_config_json.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        (in_dir / kConfigFileName).string(), ": has a quantization_config; import float models"));
  }
  absl::StatusOr<std::unique_ptr<TensorStore>> store = TensorStore::OpenDir(in_dir);
  if (!store.ok()) return store.status();
  if (absl::Status s = CheckFloatTensors(*config, **store, in_dir); !s.ok()) return s;

  std::vector<std::vector<std::byte>> storage;  // converted tensors, alive until written
  SafetensorsWriter writer;
  std::optional<DType> seen_dtype;
  for (const ExpectedTensor& expected : ExpectedTensors(*config)) {
    absl::StatusOr<TensorView> t = (*store)->Get(expected.name);
    if (!t.ok()) return t.status();
    DType out = options.dtype.value_or(t->dtype == DType::kF64 ? DType::kF32 : t->dtype);
    if (!seen_dtype) seen_dtype = out;
    absl::Status s;
    if (out == t->dtype) {
      s = writer.Add(expected.name, out, t->shape, t->data);  // zero-copy from the mapping
    } else {
      std::vector<float> values(t->numel());
      if (s = ConvertToFloat32(*t, values); !s.ok()) return s;
      storage.push_back(EncodeFloat32(values, out));
      s = writer.Add(expected.name, out, t->shape, storage.back());
    }
    if (!s.ok()) return s;
  }
  config->torch_dtype = TorchDTypeName(seen_dtype.value_or(DType::kF32));
  writer.SetMetadata("format", "pt");
  std::filesystem::path tokenizer;
  for (std::string_view name : {kSentencePieceFileName, kLlama2cTokenizerFileName}) {
    if (std::filesystem::exists(in_dir / name)) {
      tokenizer = in_dir / name;
      break;
    }
  }
  return WriteModelFiles(out_dir, *config, writer, tokenizer);
}

}  // namespace accllm
