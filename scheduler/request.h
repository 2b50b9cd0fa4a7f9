// One generation request inside the scheduler: the validated parameters, its
// tokens (prompt then generated), how many of them are in the KV cache, and
// its lifecycle as one explicit state machine:
//
//   waiting → prefilling → decoding ─┐
//      ▲          │            │     ├→ finished | cancelled | failed (with a reason)
//      └──────────┴────────────┘     │  from any non-terminal state
//   (preemption or worker failure: back to waiting with every token, to recompute)
//
// Anything else (e.g. leaving a terminal state) is an error.
#ifndef ACCLLM_SCHEDULER_REQUEST_H_
#define ACCLLM_SCHEDULER_REQUEST_H_

#include <cstdint>   // int32_t, int64_t
#include <optional>  // std::optional
#include <string>    // std::string
#include <vector>    // std::vector

#include "absl/status/status.h"        // absl::Status
#include "absl/status/statusor.h"      // absl::StatusOr
#include "scheduler/attention_spec.h"  // AttentionSpec
#include "scheduler/clock.h"           // TimePoint
#include "scheduler/request_types.h"   // RequestParams, ModelLimits, RequestState, FinishReason
#include "scheduler/stop_rules.h"      // StopRules

namespace accllm::scheduler {

// Every field checked against the model's limits; the error names the field.
absl::Status ValidateRequestParams(const RequestParams& params, const ModelLimits& limits);

class Request {
 public:
  static absl::StatusOr<Request> Create(RequestId id, RequestParams params,
                                        const ModelLimits& limits, TimePoint arrival);

  RequestId id() const { return id_; }
  const RequestParams& params() const { return params_; }
  const AttentionSpec& attention() const { return attention_; }  // resolved
  TimePoint arrival() const { return arrival_; }

  RequestState state() const { return state_; }
  // Moves between the non-terminal states; FAILED_PRECONDITION otherwise.
  absl::Status TransitionTo(RequestState next);
  // Ends the request: kCancelled → cancelled, kError → failed, else finished.
  absl::Status Finish(FinishReason reason, std::string message = {});
  std::optional<FinishReason> finish_reason() const { return finish_reason_; }
  const std::string& finish_message() const { return finish_message_; }

  // Prompt then generated tokens: what a recompute feeds again.
  const std::vector<int32_t>& tokens() const { return tokens_; }
  int64_t num_tokens() const { return static_cast<int64_t>(tokens_.size()); }
  int64_t prompt_length() const { return prompt_length_; }
  int64_t num_generated() const { return num_tokens() - prompt_length_; }
  void AppendGenerated(int32_t token) { tokens_.push_back(token); }

  // Tokens whose K/V are in the cache (of tokens(), from the start).
  int64_t num_cached() const { return num_cached_; }
  void set_num_cached(int64_t n) { num_cached_ = n; }
  // Positions a full run writes to the KV cache (the last token is never fed).
  int64_t MaxPositions() const { return prompt_length_ + params_.max_tokens - 1; }

  StopRules& stop_rules() { return stop_rules_; }
  const StopRules& stop_rules() const { return stop_rules_; }

  int32_t times_preempted = 0;
  int32_t times_requeued = 0;  // after worker failures

 private:
  Request(RequestId id, RequestParams params, AttentionSpec attention, TimePoint arrival);

  RequestId id_;
  RequestParams params_;
  AttentionSpec attention_;
  TimePoint arrival_;
  RequestState state_ = RequestState::kWaiting;
  std::optional<FinishReason> finish_reason_;
  std::string finish_message_;
  std::vector<int32_t> tokens_;
  int64_t prompt_length_;
  int64_t num_cached_ = 0;
  StopRules stop_rules_;
};

}  // namespace accllm::scheduler

#endif  // ACCLLM_SCHEDULER_REQUEST_H_
