#include "workers/engine/generate.h"

#include <algorithm>

#include "absl/strings/str_cat.h"     // absl::StrCat
#include "workers/engine/kv_factory.h"  // MakeSequenceKv

namespace accllm {

std::string_view FinishReasonName(FinishReason reason) {
  switch (reason) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kContextFull: return "context_full";
    case FinishReason::kCancelled: return "cancelled";
  }
  return "unknown";
}

absl::StatusOr<GenerateResult> Generate(const LlamaModel& model, std::span<const int32_t> prompt,
                                        const GenerateOptions& options,
                                        const TokenCallback& on_token) {
  const ModelConfig& c = model.config();
  if (prompt.empty()) return absl::InvalidArgumentError("the prompt has no tokens");
  for (size_t i = 0; i < prompt.size(); ++i) {
    if (prompt[i] < 0 || prompt[i] >= c.vocab_size) {
      return absl::InvalidArgumentError(absl::StrCat("prompt token ", i, " has id ", prompt[i],
                                                     ", outside the vocabulary [0, ",
                                                     c.vocab_size, ")"));
    }
  }
  if (static_cast<int64_t>(prompt.size()) > c.max_seq_len) {
    return absl::InvalidArgumentError(absl::StrCat("the prompt has ", prompt.size(),
                                                   " tokens, the model's context is ",
                                                   c.max_seq_len));
  }
  if (options.max_tokens < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_tokens must be >= 0, got ", options.max_tokens));
  }
  if (absl::Status s = ValidateSamplingParams(options.sampling); !s.ok()) return s;
  const std::vector<int32_t>& stop = options.stop_ids.empty() ? c.eos_token_ids : options.stop_ids;

  const int32_t n_prompt = static_cast<int32_t>(prompt.size());
  const int32_t capacity =
      static_cast<int32_t>(std::min<int64_t>(int64_t{n_prompt} + options.max_tokens, c.max_seq_len));
  const int32_t kv_capacity = std::max(capacity, n_prompt);
  std::unique_ptr<SequenceKv> cache = MakeSequenceKv(model, kv_capacity);  // float, KV8 or KV4
  Sampler sampler(options.sampling);
  std::vector<float> logits(c.vocab_size);
  GenerateResult result;
  if (options.max_tokens == 0) return result;

  for (int32_t pos = 0; pos < n_prompt; ++pos) {
    const bool last = pos + 1 == n_prompt;  // only the last prompt token needs logits
    if (absl::Status s = model.Forward(prompt[pos], pos, *cache,
                                       last ? std::span<float>(logits) : std::span<float>());
        !s.ok()) {
      return s;
    }
  }
  int32_t pos = n_prompt;
  while (true) {
    const int32_t next = sampler.Sample(logits);
    if (std::find(stop.begin(), stop.end(), next) != stop.end()) {
      result.finish_reason = FinishReason::kStop;
      break;
    }
    result.tokens.push_back(next);
    if (on_token && !on_token(next)) {
      result.finish_reason = FinishReason::kCancelled;
      break;
    }
    if (static_cast<int32_t>(result.tokens.size()) >= options.max_tokens) {
      result.finish_reason = FinishReason::kLength;
      break;
    }
    if (pos >= kv_capacity) {
      result.finish_reason = FinishReason::kContextFull;
      break;
    }
    if (absl::Status s = model.Forward(next, pos, *cache, logits); !s.ok()) return s;
    ++pos;
  }
  return result;
}

}  // namespace accllm
