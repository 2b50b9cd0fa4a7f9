// The edge of Inference.Generate: every field of a GenerateRequest checked and
// turned into the scheduler's RequestParams for one model. Errors are
// INVALID_ARGUMENT naming the field; what the scheduler checks itself (token
// ranges, attention limits) is left to it so the rule lives in one place.
#ifndef ACCLLM_SERVER_REQUEST_BUILDER_H_
#define ACCLLM_SERVER_REQUEST_BUILDER_H_

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"        // absl::StatusOr
#include "accllm/v1/inference.pb.h"      // v1::GenerateRequest
#include "model/config.h"                // ModelConfig
#include "model/tokenizer/tokenizer.h"   // Tokenizer
#include "scheduler/clock.h"             // TimePoint
#include "scheduler/request_types.h"     // RequestParams, ModelLimits

namespace accllm {

struct RequestDefaults {
  int32_t max_tokens = 256;  // when the request leaves it 0
};

struct BuiltRequest {
  scheduler::RequestParams params;
  // Dense attention: max_tokens was cut to what fits the model's context, so
  // reaching it means FINISH_REASON_CONTEXT.
  bool cut_to_context = false;
};

// `tokenizer` may be null (then only token_ids prompts and no stop strings);
// `deadline` is the gRPC call's, if any; `random_seed` is used when no seed is given.
absl::StatusOr<BuiltRequest> BuildRequest(const v1::GenerateRequest& request,
                                          const ModelConfig& config,
                                          const scheduler::ModelLimits& limits,
                                          const Tokenizer* tokenizer,
                                          const RequestDefaults& defaults, scheduler::TimePoint now,
                                          std::optional<scheduler::TimePoint> deadline,
                                          uint64_t random_seed);

}  // namespace accllm

#endif  // ACCLLM_SERVER_REQUEST_BUILDER_H_
