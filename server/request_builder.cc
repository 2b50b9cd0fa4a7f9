#include "server/request_builder.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "absl/strings/str_cat.h"  // absl::StrCat

namespace accllm {

namespace {
absl::Status Invalid(std::string message) { return absl::InvalidArgumentError(std::move(message)); }
}  // namespace

absl::StatusOr<BuiltRequest> BuildRequest(const v1::GenerateRequest& request,
                                          const ModelConfig& config,
                                          const scheduler::ModelLimits& limits,
                                          const Tokenizer* tokenizer,
                                          const RequestDefaults& defaults, scheduler::TimePoint now,
                                          std::optional<scheduler::TimePoint> deadline,
                                          uint64_t random_seed) {
  BuiltRequest built;
  scheduler::RequestParams& p = built.params;
  switch (request.prompt_case()) {
    case v1::GenerateRequest::kText: {
      if (tokenizer == nullptr) {
        return absl::FailedPreconditionError(
            "this model has no tokenizer: send prompt.token_ids instead of prompt.text");
      }
      if (request.text().empty()) return Invalid("text: the prompt is empty");
      absl::StatusOr<std::vector<int32_t>> ids = tokenizer->Encode(request.text(), true);
      if (!ids.ok()) return Invalid(absl::StrCat("text: ", ids.status().message()));
      p.prompt = *std::move(ids);
      break;
    }
    case v1::GenerateRequest::kTokenIds:
      if (request.token_ids().ids().empty()) return Invalid("token_ids: the prompt is empty");
      p.prompt.assign(request.token_ids().ids().begin(), request.token_ids().ids().end());
      break;
    case v1::GenerateRequest::PROMPT_NOT_SET:
      return Invalid("prompt: set text or token_ids");
  }

  const v1::SamplingParams& s = request.sampling();
  if (!std::isfinite(s.temperature()) || s.temperature() < 0 || s.temperature() > 100) {
    return Invalid(absl::StrCat("sampling.temperature must be in [0, 100] (got ", s.temperature(), ")"));
  }
  if (!std::isfinite(s.top_p()) || s.top_p() < 0 || s.top_p() > 1) {
    return Invalid(absl::StrCat("sampling.top_p must be in (0, 1], or 0 for 1 (got ", s.top_p(), ")"));
  }
  if (s.top_k() < 0) return Invalid(absl::StrCat("sampling.top_k must be >= 0 (got ", s.top_k(), ")"));
  p.sampling = {.temperature = s.temperature(),
                .top_k = s.top_k(),
                .top_p = s.top_p() == 0 ? 1.0f : s.top_p(),
                .seed = s.has_seed() ? s.seed() : random_seed};

  if (request.max_tokens() < 0 || request.max_tokens() > limits.max_tokens) {
    return Invalid(absl::StrCat("max_tokens must be in [1, ", limits.max_tokens,
                                "], or 0 for the default (got ", request.max_tokens(), ")"));
  }
  p.max_tokens = request.max_tokens() == 0 ? defaults.max_tokens : request.max_tokens();

  for (int i = 0; i < request.stop_size(); ++i) {
    const std::string& stop = request.stop(i);
    if (stop.empty()) return Invalid(absl::StrCat("stop[", i, "] is empty"));
    if (tokenizer == nullptr) {
      return absl::FailedPreconditionError(
          "this model has no tokenizer: use stop_token_ids instead of stop strings");
    }
    absl::StatusOr<std::vector<int32_t>> ids = tokenizer->Encode(stop, false);
    if (!ids.ok() || ids->empty()) {
      return Invalid(absl::StrCat("stop[", i, "] cannot be tokenized"));
    }
    p.stop_sequences.push_back(*std::move(ids));
  }
  p.stop_token_ids.assign(request.stop_token_ids().begin(), request.stop_token_ids().end());
  if (!request.ignore_eos()) {
    p.stop_token_ids.insert(p.stop_token_ids.end(), config.eos_token_ids.begin(),
                            config.eos_token_ids.end());
  }

  if (request.priority() < -100 || request.priority() > 100) {
    return Invalid(absl::StrCat("priority must be in [-100, 100] (got ", request.priority(), ")"));
  }
  p.priority = request.priority();

  const double timeout = request.timeout_seconds();
  if (!std::isfinite(timeout) || timeout < 0 || timeout > 365.0 * 24 * 3600) {
    return Invalid(absl::StrCat("timeout_seconds must be in [0, one year] (got ", timeout, ")"));
  }
  if (timeout > 0) {
    p.deadline = now + std::chrono::duration_cast<scheduler::Duration>(
                           std::chrono::duration<double>(timeout));
  }
  if (deadline && (!p.deadline || *deadline < *p.deadline)) p.deadline = deadline;

  switch (request.attention().kind_case()) {
    case v1::AttentionOptions::kDense:
      p.attention = AttentionWindow::Dense();
      break;
    case v1::AttentionOptions::kLambda:
      if (request.attention().lambda().window() < 1) {
        return Invalid(absl::StrCat("attention.lambda.window must be >= 1 (got ",
                                    request.attention().lambda().window(), ")"));
      }
      if (request.attention().lambda().sinks() < 0) {
        return Invalid(absl::StrCat("attention.lambda.sinks must be >= 0 (got ",
                                    request.attention().lambda().sinks(), ")"));
      }
      p.attention = AttentionWindow::Lambda(request.attention().lambda().sinks(),
                                            request.attention().lambda().window());
      break;
    case v1::AttentionOptions::KIND_NOT_SET:
      break;  // the model's default
  }
  const AttentionWindow attention = p.attention.value_or(limits.default_attention);
  if (attention.dense) {
    // A dense sequence cannot outgrow the trained context: stop there (as llama2.c does).
    const int64_t room = limits.max_dense_context - static_cast<int64_t>(p.prompt.size());
    if (room <= 0) {
      return Invalid(absl::StrCat("prompt: ", p.prompt.size(),
                                  " tokens fill the model's dense context of ",
                                  limits.max_dense_context, "; use Λ attention or a shorter prompt"));
    }
    if (p.max_tokens > room) {
      p.max_tokens = static_cast<int32_t>(room);
      built.cut_to_context = true;
    }
  }
  return built;
}

}  // namespace accllm
