// The attention rule as the scheduler names it: the page allocator needs
// exactly this rule to know when a page is dead. It is the model's
// AttentionWindow (one definition shared with the engine and kernels).
#ifndef ACCLLM_SCHEDULER_ATTENTION_SPEC_H_
#define ACCLLM_SCHEDULER_ATTENTION_SPEC_H_

#include "model/attention_window_check.h"  // AttentionWindow, ValidateAttentionWindow

namespace accllm::scheduler {

using AttentionSpec = ::accllm::AttentionWindow;

inline absl::Status ValidateAttentionSpec(const AttentionSpec& spec) {
  return ValidateAttentionWindow(spec);
}

}  // namespace accllm::scheduler

#endif  // ACCLLM_SCHEDULER_ATTENTION_SPEC_H_
