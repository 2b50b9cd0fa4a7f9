// accllm convert: llama2.c checkpoints and Hugging Face directories → model dirs.
#include <string>
#include <vector>

#include "absl/flags/flag.h"             // absl::GetFlag
#include "client/cli/flags.h"            // FLAGS_*
#include "absl/strings/str_cat.h"        // absl::StrCat
#include "client/cli/command.h"          // RunConvert
#include "model/hf_import.h"             // ImportHuggingFace
#include "model/llama2c_checkpoint.h"    // ImportLlama2c
#include "spdlog/spdlog.h"               // spdlog::info

namespace accllm::cli {


absl::Status RunConvert(const std::vector<std::string>& args) {
  if (!args.empty()) return absl::InvalidArgumentError("unexpected argument \"" + args[0] + "\"");
  const std::string from = absl::GetFlag(FLAGS_from);
  const std::filesystem::path in = absl::GetFlag(FLAGS_in), out = absl::GetFlag(FLAGS_out);
  if (in.empty()) return absl::InvalidArgumentError("--in is required");
  if (out.empty()) return absl::InvalidArgumentError("--out is required");
  if (!std::filesystem::exists(in)) return absl::NotFoundError(in.string() + " does not exist");
  absl::StatusOr<std::optional<DType>> dtype = ParseDtypeFlag(absl::GetFlag(FLAGS_dtype));
  if (!dtype.ok()) return dtype.status();

  absl::Status status;
  if (from == "llama2c") {
    Llama2cImportOptions options;
    options.dtype = dtype->value_or(DType::kF32);
    options.tokenizer_bin = absl::GetFlag(FLAGS_tokenizer);
    status = ImportLlama2c(in, out, options);
  } else if (from == "hf") {
    if (!absl::GetFlag(FLAGS_tokenizer).empty()) {
      return absl::InvalidArgumentError("--tokenizer is for llama2c; an HF directory brings its own");
    }
    HfImportOptions options;
    options.dtype = *dtype;
    status = ImportHuggingFace(in, out, options);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--from must be llama2c or hf, got \"", from, "\""));
  }
  if (!status.ok()) return status;
  spdlog::info("wrote model directory {}", out.string());
  return absl::OkStatus();
}

}  // namespace accllm::cli
