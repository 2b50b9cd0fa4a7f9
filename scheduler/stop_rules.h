// When a request stops and which generated tokens may be streamed. Tokens
// that could be the start of a stop sequence are held back until it is
// decided, because a stop sequence's own tokens are never emitted. Stop token
// ids end the request and are not emitted either; max_tokens ends it with
// every held-back token flushed.
#ifndef ACCLLM_SCHEDULER_STOP_RULES_H_
#define ACCLLM_SCHEDULER_STOP_RULES_H_

#include <cstdint>   // int32_t, int64_t
#include <optional>  // std::optional
#include <vector>    // std::vector

#include "scheduler/request_types.h"  // FinishReason

namespace accllm::scheduler {

class StopRules {
 public:
  StopRules(int64_t max_tokens, std::vector<int32_t> stop_token_ids,
            std::vector<std::vector<int32_t>> stop_sequences);

  struct Outcome {
    std::vector<int32_t> emit;           // tokens now safe to stream, in order
    std::optional<FinishReason> finish;  // set when this token ended the request
  };
  // Feeds the next generated token.
  Outcome OnToken(int32_t token);
  // Held-back tokens, released when the request ends for another reason
  // (deadline): they did not turn out to be a stop sequence.
  std::vector<int32_t> Flush();

  int64_t num_generated() const { return generated_; }
  int64_t num_emitted() const { return emitted_; }

 private:
  // Longest suffix of held_ that is a proper prefix of some stop sequence.
  size_t LongestPendingSuffix() const;
  void EmitFront(size_t count, std::vector<int32_t>& out);

  int64_t max_tokens_;
  std::vector<int32_t> stop_token_ids_;
  std::vector<std::vector<int32_t>> stop_sequences_;
  std::vector<int32_t> held_;
  int64_t generated_ = 0;
  int64_t emitted_ = 0;
  bool done_ = false;
};

}  // namespace accllm::scheduler

#endif  // ACCLLM_SCHEDULER_STOP_RULES_H_
