// Plain types shared by requests, the scheduler and workers: what a client
// asks for (RequestParams), what the model allows (ModelLimits), and how a
// request ends (FinishReason).
#ifndef ACCLLM_SCHEDULER_REQUEST_TYPES_H_
#define ACCLLM_SCHEDULER_REQUEST_TYPES_H_

#include <cstdint>      // int32_t, int64_t, uint64_t
#include <optional>     // std::optional
#include <string_view>  // std::string_view
#include <vector>       // std::vector

#include "scheduler/attention_spec.h"  // AttentionSpec
#include "scheduler/clock.h"           // TimePoint

namespace accllm::scheduler {

using RequestId = uint64_t;
using WorkerId = int32_t;

struct SamplingParams {
  float temperature = 0.0f;  // 0: greedy
  int32_t top_k = 0;         // 0: no limit
  float top_p = 1.0f;        // nucleus mass in (0, 1]
  uint64_t seed = 0;         // with the sampled position, seeds the worker's RNG
};

struct RequestParams {
  std::vector<int32_t> prompt;  // token ids, at least one
  SamplingParams sampling;
  int32_t max_tokens = 16;  // generated tokens, at least one
  std::vector<int32_t> stop_token_ids;
  std::vector<std::vector<int32_t>> stop_sequences;  // token-id sequences, none empty
  int32_t priority = 0;                              // higher runs first
  std::optional<TimePoint> deadline;                 // on the scheduler's clock
  std::optional<AttentionSpec> attention;            // the model's default when unset
};

// What the loaded model supports; requests are validated against it.
struct ModelLimits {
  int32_t vocab_size = 32000;
  int64_t max_dense_context = 4096;  // positions a dense-attention sequence may reach
  int32_t max_window = 1 << 20;      // largest W a request may ask for
  int32_t max_sinks = 64;            // largest S a request may ask for
  int32_t max_tokens = 1 << 20;      // largest max_tokens
  int64_t max_prompt_tokens = 1 << 22;
  AttentionSpec default_attention;  // S=4, W=1024
};

enum class RequestState { kWaiting, kPrefilling, kDecoding, kFinished, kCancelled, kFailed };

enum class FinishReason {
  kStop,       // a stop token id or stop sequence
  kLength,     // max_tokens generated
  kDeadline,   // the deadline passed first
  kCancelled,  // the client cancelled or went away
  kError,      // e.g. no worker left that can hold the request
};

std::string_view RequestStateName(RequestState state);
std::string_view FinishReasonName(FinishReason reason);
bool IsTerminal(RequestState state);

}  // namespace accllm::scheduler

#endif  // ACCLLM_SCHEDULER_REQUEST_TYPES_H_
