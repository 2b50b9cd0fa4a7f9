// The reference generation loop: prompt → tokens, one sequence, dense KV cache.
#ifndef ACCLLM_WORKERS_ENGINE_GENERATE_H_
#define ACCLLM_WORKERS_ENGINE_GENERATE_H_

#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"        // absl::StatusOr
#include "workers/engine/llama_model.h"  // LlamaModel
#include "workers/backend/sampler.h"      // SamplingParams

namespace accllm {

struct GenerateOptions {
  int32_t max_tokens = 128;
  SamplingParams sampling;
  std::vector<int32_t> stop_ids;  // empty: the model's eos_token_ids
};

enum class FinishReason { kStop, kLength, kContextFull, kCancelled };
std::string_view FinishReasonName(FinishReason reason);  // "stop", "length", ...

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated ids, the stop token excluded
  FinishReason finish_reason = FinishReason::kLength;
};

// Called with each generated token (not stop tokens); return false to stop.
using TokenCallback = std::function<bool(int32_t token)>;

// Errors: empty prompt, ids outside the vocabulary, prompt longer than the
// model's context, bad sampling parameters, max_tokens < 0.
absl::StatusOr<GenerateResult> Generate(const LlamaModel& model, std::span<const int32_t> prompt,
                                        const GenerateOptions& options,
                                        const TokenCallback& on_token = nullptr);

}  // namespace accllm

#endif  // ACCLLM_WORKERS_ENGINE_GENERATE_H_
