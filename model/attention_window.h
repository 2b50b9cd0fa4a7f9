// Which positions a query attends to — the one rule the page allocator, the
// engine and the kernels share: Λ-shaped (S sinks + a local window of W) or
// dense. A token at position t attends to p < S and t−W < p ≤ t.
// Header-only plain C++ so the scheduler can use it without linking any model code, and the
// FPGA kernels (which Vitis compiles without the project's libraries) read the same rule;
// model/attention_window_check.h has the status-returning check.
#ifndef ACCLLM_MODEL_ATTENTION_WINDOW_H_
#define ACCLLM_MODEL_ATTENTION_WINDOW_H_

#include <algorithm>
#include <cstdint>

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

  // Structurally sound: window >= 1 and 0 <= S <= W (dense always is).
  bool Valid() const { return dense || (window >= 1 && sinks >= 0 && sinks <= window); }

  friend bool operator==(const AttentionWindow&, const AttentionWindow&) = default;
};

}  // namespace accllm

#endif  // ACCLLM_MODEL_ATTENTION_WINDOW_H_
