// ValidateAttentionWindow: AttentionWindow::Valid with a message a person can act on.
#ifndef ACCLLM_MODEL_ATTENTION_WINDOW_CHECK_H_
#define ACCLLM_MODEL_ATTENTION_WINDOW_CHECK_H_

#include "absl/status/status.h"      // absl::Status
#include "absl/strings/str_cat.h"    // absl::StrCat
#include "model/attention_window.h"  // AttentionWindow

namespace accllm {

// Structural checks (window ≥ 1, 0 ≤ S ≤ W); model limits are checked where
// requests are validated.
inline absl::Status ValidateAttentionWindow(const AttentionWindow& w) {
  if (w.Valid()) return absl::OkStatus();
  if (w.window < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("attention window must be at least 1 token (got ", w.window,
                     "); use dense attention to attend to everything"));
  }
  if (w.sinks < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("attention sinks must be >= 0 (got ", w.sinks, ")"));
  }
  if (w.sinks > w.window) {
    return absl::InvalidArgumentError(absl::StrCat(
        "attention sinks (", w.sinks, ") must not exceed the window (", w.window, ")"));
  }
  return absl::OkStatus();
}

}  // namespace accllm

#endif  // ACCLLM_MODEL_ATTENTION_WINDOW_CHECK_H_
