// accllm run: generation with the float32 reference engine, in process.
#include <chrono>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"              // absl::GetFlag
#include "absl/strings/str_cat.h"         // absl::StrCat
#include "absl/strings/str_join.h"        // absl::StrJoin
#include "client/cli/command.h"           // RunRun
#include "client/cli/flags.h"             // FLAGS_*
#include "model/model_dir.h"              // OpenModelDir
#include "model/tokenizer/utf8_stream.h"  // Utf8Stream
#include "spdlog/spdlog.h"                // spdlog::info
#include "workers/engine/generate.h"      // Generate
#include "workers/engine/llama_model.h"   // LlamaModel

namespace accllm::cli {

absl::Status RunRun(const std::vector<std::string>& args) {
  if (!args.empty()) return absl::InvalidArgumentError("unexpected argument \"" + args[0] + "\"");
  const std::string model_path = absl::GetFlag(FLAGS_model);
  if (model_path.empty()) return absl::InvalidArgumentError("--model is required");
  const std::string prompt_text = absl::GetFlag(FLAGS_prompt);
  const std::string prompt_ids = absl::GetFlag(FLAGS_prompt_ids);
  if (prompt_text.empty() == prompt_ids.empty()) {
    return absl::InvalidArgumentError("give exactly one of --prompt and --prompt-ids");
  }

  const auto t_load = std::chrono::steady_clock::now();
  absl::StatusOr<ModelDir> dir = OpenModelDir(model_path);
  if (!dir.ok()) return dir.status();
  absl::StatusOr<std::unique_ptr<LlamaModel>> model = LlamaModel::Load(*dir);
  if (!model.ok()) return model.status();

  std::vector<int32_t> prompt;
  if (!prompt_ids.empty()) {
    if (absl::Status s = ParseTokenIds(prompt_ids, &prompt); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--prompt-ids: ", s.message()));
    }
  } else {
    if (dir->tokenizer == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          model_path, " has no tokenizer (tokenizer.model or tokenizer.bin); use --prompt-ids"));
    }
    absl::StatusOr<std::vector<int32_t>> ids = dir->tokenizer->Encode(prompt_text, true);
    if (!ids.ok()) return ids.status();
    prompt = *std::move(ids);
  }
  const bool print_ids = absl::GetFlag(FLAGS_ids) || dir->tokenizer == nullptr;
  if (!absl::GetFlag(FLAGS_ids) && dir->tokenizer == nullptr) {
    spdlog::warn("{} has no tokenizer: printing token ids", model_path);
  }

  GenerateOptions options;
  options.max_tokens = absl::GetFlag(FLAGS_max_tokens);
  options.sampling.temperature = absl::GetFlag(FLAGS_temperature);
  options.sampling.top_p = absl::GetFlag(FLAGS_top_p);
  options.sampling.top_k = absl::GetFlag(FLAGS_top_k);
  const int64_t seed = absl::GetFlag(FLAGS_seed);
  options.sampling.seed = seed >= 0 ? static_cast<uint64_t>(seed) : std::random_device{}();

  const auto t_start = std::chrono::steady_clock::now();
  int32_t prev = prompt.back();
  Utf8Stream utf8;
  absl::Status decode_status;
  auto on_token = [&](int32_t token) {
    if (!print_ids) {
      absl::StatusOr<std::string> piece = dir->tokenizer->DecodeToken(prev, token);
      if (!piece.ok()) {
        decode_status = piece.status();
        return false;
      }
      std::cout << utf8.Push(*piece) << std::flush;
    }
    prev = token;
    return true;
  };
  absl::StatusOr<GenerateResult> result = Generate(**model, prompt, options, on_token);
  if (!result.ok()) return result.status();
  if (!decode_status.ok()) return decode_status;
  const auto t_end = std::chrono::steady_clock::now();
  if (print_ids) {
    std::cout << absl::StrJoin(result->tokens, " ") << "\n";
  } else {
    std::cout << utf8.Flush() << "\n";
  }
  const double load_s = std::chrono::duration<double>(t_start - t_load).count();
  const double gen_s = std::chrono::duration<double>(t_end - t_start).count();
  spdlog::info("{} prompt + {} generated tokens in {:.3f} s ({:.1f} tok/s, load {:.2f} s), "
               "finish: {}",
               prompt.size(), result->tokens.size(), gen_s,
               (prompt.size() + result->tokens.size()) / std::max(gen_s, 1e-9), load_s,
               FinishReasonName(result->finish_reason));
  return absl::OkStatus();
}

}  // namespace accllm::cli
