#include "model/model_dir.h"

#include "absl/strings/str_cat.h"  // absl::StrCat
#include "model/safetensors_writer.h"  // SafetensorsWriter
#include "model/tensor_names.h"    // ExpectedTensors

namespace accllm {

namespace {

absl::Status CheckTensors(const ModelConfig& config, const TensorStore& tensors,
                          const std::filesystem::path& where, bool quantized) {
  for (const ExpectedTensor& expected : ExpectedTensors(config)) {
    if (quantized && !tensors.Contains(expected.name)) {
      // A quantized model replaces "<prefix>.weight" of a linear, the embedding or the head by
      // "<prefix>.qweight" (+ scales...); the engine's loader checks those against
      // quantization_config (model/ cannot read that block: quant/ depends on model/).
      const std::string_view name = expected.name;
      const std::string prefix(name.substr(0, name.size() - std::string_view(".weight").size()));
      if (tensors.Contains(prefix + ".qweight")) continue;
      return absl::NotFoundError(absl::StrCat(where.string(), ": tensor \"", expected.name,
                                              "\" (or its quantized form \"", prefix,
                                              ".qweight\") not found"));
    }
    absl::StatusOr<TensorView> t = tensors.Get(expected.name);
    if (!t.ok()) return t.status();
    if (!IsFloatDType(t->dtype)) {
      return absl::InvalidArgumentError(absl::StrCat(
          where.string(), ": tensor \"", expected.name, "\" has dtype ",
          std::string(DTypeName(t->dtype)), ", a float tensor must be F32, F16 or BF16"));
    }
    if (t->shape != expected.shape) {
      TensorView want;
      want.shape = expected.shape;
      return absl::InvalidArgumentError(absl::StrCat(
          where.string(), ": tensor \"", expected.name, "\" has shape ", t->ShapeString(),
          " but config.json implies ", want.ShapeString()));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckFloatTensors(const ModelConfig& config, const TensorStore& tensors,
                               const std::filesystem::path& where) {
  return CheckTensors(config, tensors, where, /*quantized=*/false);
}

absl::Status CheckModelTensors(const ModelConfig& config, const TensorStore& tensors,
                               const std::filesystem::path& where) {
  return CheckTensors(config, tensors, where, !config.quantization_config_json.empty());
}

absl::StatusOr<ModelDir> OpenModelDir(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) {
    return absl::NotFoundError(absl::StrCat(dir.string(), " is not a model directory"));
  }
  ModelDir model;
  model.path = dir;
  absl::StatusOr<ModelConfig> config = ReadModelConfig(dir / kConfigFileName);
  if (!config.ok()) return config.status();
  model.config = *std::move(config);
  absl::StatusOr<std::unique_ptr<TensorStore>> tensors = TensorStore::OpenDir(dir);
  if (!tensors.ok()) return tensors.status();
  model.tensors = *std::move(tensors);
  if (absl::Status s = CheckModelTensors(model.config, *model.tensors, dir); !s.ok()) return s;

  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = LoadTokenizerFromDir(dir);
  if (tokenizer.ok()) {
    model.tokenizer = *std::move(tokenizer);
  } else if (!absl::IsNotFound(tokenizer.status())) {
    return tokenizer.status();  // a tokenizer that exists but is broken is an error
  }
  if (model.tokenizer && model.tokenizer->vocab_size() > model.config.vocab_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        dir.string(), ": the tokenizer has ", model.tokenizer->vocab_size(),
        " pieces but config.json's vocab_size is ", model.config.vocab_size));
  }
  return model;
}

absl::Status WriteModelFiles(const std::filesystem::path& dir, const ModelConfig& config,
                             const SafetensorsWriter& tensors,
                             const std::filesystem::path& tokenizer_file) {
  if (absl::Status s = ValidateConfig(config); !s.ok()) return s;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
  }
  if (!tokenizer_file.empty()) {
    const std::string name = tokenizer_file.filename().string();
    if (name != kSentencePieceFileName && name != kLlama2cTokenizerFileName &&
        tokenizer_file.extension() != ".bin" && tokenizer_file.extension() != ".model") {
      return absl::InvalidArgumentError(absl::StrCat(
          tokenizer_file.string(), ": a tokenizer is a SentencePiece .model or a llama2.c .bin"));
    }
    const std::string target(tokenizer_file.extension() == ".model" ? kSentencePieceFileName
                                                                     : kLlama2cTokenizerFileName);
    std::filesystem::copy_file(tokenizer_file, dir / target,
                               std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) {
      return absl::NotFoundError(
          absl::StrCat("cannot copy tokenizer ", tokenizer_file.string(), ": ", ec.message()));
    }
  }
  if (absl::Status s = WriteTensorsToDir(tensors, dir); !s.ok()) return s;
  // config.json last: a directory with a config is a complete one.
  return WriteModelConfig(config, dir / kConfigFileName);
}

}  // namespace accllm
