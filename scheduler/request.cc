#include "scheduler/request.h"

#include <cmath>    // std::isfinite
#include <utility>  // std::move

#include "absl/strings/str_cat.h"  // absl::StrCat

namespace accllm::scheduler {
namespace {

absl::Status CheckToken(int32_t token, int32_t vocab_size, const char* field) {
  if (token < 0 || token >= vocab_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": token id ", token, " is outside the vocabulary [0, ", vocab_size, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view RequestStateName(RequestState state) {
  switch (state) {
    case RequestState::kWaiting:
      return "waiting";
    case RequestState::kPrefilling:
      return "prefilling";
    case RequestState::kDecoding:
      return "decoding";
    case RequestState::kFinished:
      return "finished";
    case RequestState::kCancelled:
      return "cancelled";
    case RequestState::kFailed:
      return "failed";
  }
  return "unknown";
}

std::string_view FinishReasonName(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop:
      return "stop";
    case FinishReason::kLength:
      return "length";
    case FinishReason::kDeadline:
      return "deadline";
    case FinishReason::kCancelled:
      return "cancelled";
    case FinishReason::kError:
      return "error";
  }
  return "unknown";
}

bool IsTerminal(RequestState state) {
  return state == RequestState::kFinished || state == RequestState::kCancelled ||
         state == RequestState::kFailed;
}

absl::Status ValidateRequestParams(const RequestParams& params, const ModelLimits& limits) {
  if (params.prompt.empty()) {
    return absl::InvalidArgumentError("prompt: at least one token is required");
  }
  if (static_cast<int64_t>(params.prompt.size()) > limits.max_prompt_tokens) {
    return absl::InvalidArgumentError(absl::StrCat("prompt: ", params.prompt.size(),
                                                   " tokens exceed the limit of ",
                                                   limits.max_prompt_tokens));
  }
  for (int32_t t : params.prompt) {
    if (absl::Status s = CheckToken(t, limits.vocab_size, "prompt"); !s.ok()) return s;
  }
  if (params.max_tokens < 1 || params.max_tokens > limits.max_tokens) {
    return absl::InvalidArgumentError(absl::StrCat("max_tokens must be in [1, ", limits.max_tokens,
                                                   "] (got ", params.max_tokens, ")"));
  }
  const SamplingParams& s = params.sampling;
  if (!std::isfinite(s.temperature) || s.temperature < 0.0f || s.temperature > 100.0f) {
    return absl::InvalidArgumentError(
        absl::StrCat("temperature must be in [0, 100] (got ", s.temperature, ")"));
  }
  if (s.top_k < 0) {
    return absl::InvalidArgumentError(absl::StrCat("top_k must be >= 0 (got ", s.top_k, ")"));
  }
  if (!std::isfinite(s.top_p) || s.top_p <= 0.0f || s.top_p > 1.0f) {
    return absl::InvalidArgumentError(absl::StrCat("top_p must be in (0, 1] (got ", s.top_p, ")"));
  }
  for (int32_t t : params.stop_token_ids) {
    if (absl::Status st = CheckToken(t, limits.vocab_size, "stop_token_ids"); !st.ok()) return st;
  }
  for (const std::vector<int32_t>& seq : params.stop_sequences) {
    if (seq.empty()) return absl::InvalidArgumentError("stop_sequences: a sequence is empty");
    for (int32_t t : seq) {
      if (absl::Status st = CheckToken(t, limits.vocab_size, "stop_sequences"); !st.ok()) {
        return st;
      }
    }
  }
  const AttentionSpec attention = params.attention.value_or(limits.default_attention);
  if (absl::Status st = ValidateAttentionSpec(attention); !st.ok()) return st;
  if (attention.dense) {
    const int64_t positions = static_cast<int64_t>(params.prompt.size()) + params.max_tokens - 1;
    if (positions > limits.max_dense_context) {
      return absl::InvalidArgumentError(
          absl::StrCat("dense attention: prompt + max_tokens reach ", positions,
                       " positions, beyond the model's dense context of ", limits.max_dense_context,
                       "; use Λ attention (sinks + window) or shorten the request"));
    }
  } else {
    if (attention.window > limits.max_window) {
      return absl::InvalidArgumentError(absl::StrCat("attention window ", attention.window,
                                                     " exceeds the model's limit of ",
                                                     limits.max_window));
    }
    if (attention.sinks > limits.max_sinks) {
      return absl::InvalidArgumentError(absl::StrCat(
          "attention sinks ", attention.sinks, " exceed the model's limit of ", limits.max_sinks));
    }
  }
  return absl::OkStatus();
}

Request::Request(RequestId id, RequestParams params, AttentionSpec attention, TimePoint arrival)
    : id_(id),
      params_(std::move(params)),
      attention_(attention),
      arrival_(arrival),
      tokens_(params_.prompt),
      prompt_length_(static_cast<int64_t>(params_.prompt.size())),
      stop_rules_(params_.max_tokens, params_.stop_token_ids, params_.stop_sequences) {}

absl::StatusOr<Request> Request::Create(RequestId id, RequestParams params,
                                        const ModelLimits& limits, TimePoint arrival) {
  if (absl::Status s = ValidateRequestParams(params, limits); !s.ok()) return s;
  const AttentionSpec attention = params.attention.value_or(limits.default_attention);
  return Request(id, std::move(params), attention, arrival);
}

absl::Status Request::TransitionTo(RequestState next) {
  bool legal = false;
  switch (state_) {
    case RequestState::kWaiting:
      legal = next == RequestState::kPrefilling;
      break;
    case RequestState::kPrefilling:
      legal = next == RequestState::kDecoding || next == RequestState::kWaiting;
      break;
    case RequestState::kDecoding:
      legal = next == RequestState::kWaiting;
      break;
    default:
      break;
  }
  if (!legal) {
    return absl::FailedPreconditionError(absl::StrCat("request ", id_, ": illegal transition ",
                                                      std::string(RequestStateName(state_)), " -> ",
                                                      std::string(RequestStateName(next))));
  }
  state_ = next;
  return absl::OkStatus();
}

absl::Status Request::Finish(FinishReason reason, std::string message) {
  if (IsTerminal(state_)) {
    return absl::FailedPreconditionError(
        absl::StrCat("request ", id_, " already ", std::string(RequestStateName(state_))));
  }
  state_ = reason == FinishReason::kCancelled ? RequestState::kCancelled
           : reason == FinishReason::kError   ? RequestState::kFailed
                                              : RequestState::kFinished;
  finish_reason_ = reason;
  finish_message_ = std::move(message);
  return absl::OkStatus();
}

}  // namespace accllm::scheduler
