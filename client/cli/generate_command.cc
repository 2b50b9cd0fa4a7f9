// accllm generate: one streamed generation from accllm-server. Prints exactly
// what `accllm run` prints for the same request (text as it arrives, or the ids
// on one line), so the two can be compared byte for byte.
#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"               // absl::GetFlag, GetFlagReflectionHandle
#include "absl/strings/str_cat.h"          // absl::StrCat
#include "absl/strings/str_join.h"         // absl::StrJoin
#include "client/cli/command.h"            // RunGenerate, ParseTokenIds
#include "client/cli/flags.h"              // FLAGS_*
#include "client/cli/server_connection.h"  // ConnectToServer, CancelOnInterrupt
#include "client/eval/evaluation.h"        // ParseAttention
#include "spdlog/spdlog.h"                 // spdlog::info

namespace accllm::cli {

namespace v1 = accllm::v1;

namespace {

// The request the flags describe; fails on flags only the client can judge.
absl::StatusOr<v1::GenerateRequest> RequestFromFlags() {
  v1::GenerateRequest request;
  request.set_model(absl::GetFlag(FLAGS_model));
  const std::string prompt_text = absl::GetFlag(FLAGS_prompt);
  const std::string prompt_ids = absl::GetFlag(FLAGS_prompt_ids);
  if (prompt_text.empty() == prompt_ids.empty()) {
    return absl::InvalidArgumentError("give exactly one of --prompt and --prompt-ids");
  }
  if (!prompt_ids.empty()) {
    std::vector<int32_t> ids;
    if (absl::Status s = ParseTokenIds(prompt_ids, &ids); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--prompt-ids: ", s.message()));
    }
    request.mutable_token_ids()->mutable_ids()->Assign(ids.begin(), ids.end());
  } else {
    request.set_text(prompt_text);
  }
  v1::SamplingParams* sampling = request.mutable_sampling();
  sampling->set_temperature(absl::GetFlag(FLAGS_temperature));
  sampling->set_top_p(absl::GetFlag(FLAGS_top_p));
  sampling->set_top_k(absl::GetFlag(FLAGS_top_k));
  const int64_t seed = absl::GetFlag(FLAGS_seed);
  if (seed < -1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--seed must be >= 0 (or -1: the server picks one), got ", seed));
  }
  if (seed >= 0) sampling->set_seed(static_cast<uint64_t>(seed));
  request.set_max_tokens(absl::GetFlag(FLAGS_max_tokens));
  request.set_ignore_eos(absl::GetFlag(FLAGS_ignore_eos));
  // Sent as given (default dense, as `accllm run` does), so generate and run
  // describe the same computation.
  absl::StatusOr<AttentionWindow> attention = ParseAttention(absl::GetFlag(FLAGS_attention));
  if (!attention.ok()) return attention.status();
  if (attention->dense) {
    request.mutable_attention()->mutable_dense();
  } else {
    request.mutable_attention()->mutable_lambda()->set_sinks(attention->sinks);
    request.mutable_attention()->mutable_lambda()->set_window(attention->window);
  }
  return request;
}

}  // namespace

absl::Status RunGenerate(const std::vector<std::string>& args) {
  if (!args.empty()) return absl::InvalidArgumentError("unexpected argument \"" + args[0] + "\"");
  absl::StatusOr<v1::GenerateRequest> request = RequestFromFlags();
  if (!request.ok()) return request.status();
  absl::StatusOr<std::unique_ptr<client::Client>> client = ConnectToServer();
  if (!client.ok()) return client.status();

  const bool print_ids = absl::GetFlag(FLAGS_ids);
  std::vector<int32_t> generated;
  const auto t_start = std::chrono::steady_clock::now();
  double first_token_s = 0;
  absl::StatusOr<client::GenerateResult> result;
  {
    CancelOnInterrupt cancel_on_interrupt(**client);
    result = (*client)->Generate(*request, [&](const v1::GenerateResponse& message) {
      if (generated.empty() && message.token_ids_size() > 0) {
        first_token_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
      }
      generated.insert(generated.end(), message.token_ids().begin(), message.token_ids().end());
      if (!print_ids && !message.text().empty()) std::cout << message.text() << std::flush;
      return true;
    });
    if (cancel_on_interrupt.interrupted()) {
      if (!print_ids) std::cout << "\n" << std::flush;
      return absl::CancelledError("cancelled (interrupted)");
    }
  }
  if (!result.ok()) {
    if (!print_ids && !generated.empty()) std::cout << "\n" << std::flush;
    return result.status();
  }
  if (result->finish_reason == v1::FINISH_REASON_ERROR) {
    if (!print_ids) std::cout << "\n" << std::flush;
    return absl::InternalError(absl::StrCat("accllm-server at ", (*client)->address(),
                                            " finished the request with an error"));
  }
  const double gen_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  std::cout << (print_ids ? absl::StrJoin(generated, " ") : std::string()) << "\n" << std::flush;
  const int64_t prompt_tokens = result->usage.prompt_tokens();
  spdlog::info(
      "{} prompt + {} generated tokens in {:.3f} s ({:.1f} tok/s, first token {:.3f} s, "
      "queue {:.3f} s), finish: {}",
      prompt_tokens, generated.size(), gen_s,
      (prompt_tokens + generated.size()) / std::max(gen_s, 1e-9), first_token_s,
      result->usage.queue_seconds(), client::FinishReasonText(result->finish_reason));
  return absl::OkStatus();
}

}  // namespace accllm::cli
