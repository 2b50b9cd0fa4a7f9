// Which positions a query attends to — the one rule the page allocator, the
// engine and the kernels share: Λ-shaped (S sinks + a local window of W) or
// dense. A token at position t attends to p < S and t−W < p ≤ t.
// Header-only so the scheduler can use it without linking any model code.
#ifndef ACCLLM_MODEL_ATTENTION_WINDOW_H_
#define ACCLLM_MODEL_ATTENTION_WINDOW_H_

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/status/status.h"    // absl::Status
#include "absl/strings/str_cat.h"  // absl::StrCat

namespace accllm {

struct AttentionWindow {
  bool dense = false;
  int32_t sinks = 4;      // S
  int32_t window = 1024;  // W

  static AttentionWindow Dense() { return {true, 0, 0}; }
  static AttentionWindow Lambda(int32_t s, int32_t w) { return {false, s, w}; }

  // First non-sink position a query at t still reads; every position in
  // [sinks, WindowStart(t)) is dead for t and for every later query.
  int64_t WindowStart(int64_t t) const {
    return dense ? 0 : std::max<int64_t>(sinks, t - window + 1);
  }
  int64_t SinkCount(int64_t t) const { return dense ? 0 : std::min<int64_t>(sinks, t + 1); }
  // StreamingLLM's in-cache positions: sink j sits just before the window, so no
  // query ever sees a distance larger than S + W.
  int64_t SinkRopePosition(int64_t t, int32_t j) const { return WindowStart(t) - sinks + j; }
  bool IsSink(int64_t p) const { return !dense && p < sinks; }
  bool Attends(int64_t t, int64_t p) const {
    if (p > t || p < 0) return false;
    return dense || p < sinks || p > t - window;
  }

  friend bool operator==(const AttentionWindow&, const AttentionWindow&) = default;
};

// Structural checks (window ≥ 1, 0 ≤ S ≤ W); model limits are checked where
// requests are validated.
inline absl::Status ValidateAttentionWindow(const AttentionWindow& w) {
  if (w.dense) return absl::OkStatus();
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

#endif  // ACCLLM_MODEL_ATTENTION_WINDOW_H_
