// Which positions a query attends to: Λ-shaped (S sinks + a local window of W)
// or dense. A token at position t attends to p < S and t−W < p ≤ t.
#ifndef ACCLLM_WORKERS_ENGINE_ATTENTION_WINDOW_H_
#define ACCLLM_WORKERS_ENGINE_ATTENTION_WINDOW_H_

#include <algorithm>
#include <cstdint>

namespace accllm {

struct AttentionWindow {
  bool dense = false;
  int32_t sinks = 4;     // S
  int32_t window = 1024;  // W

  static AttentionWindow Dense() { return {true, 0, 0}; }
  static AttentionWindow Lambda(int32_t s, int32_t w) { return {false, s, w}; }

  // First window position for a query at t (positions below it and >= S are dropped).
  int64_t WindowStart(int64_t t) const {
    return dense ? 0 : std::max<int64_t>(sinks, t - window + 1);
  }
  int64_t SinkCount(int64_t t) const { return dense ? 0 : std::min<int64_t>(sinks, t + 1); }
  // StreamingLLM's in-cache positions: sink j sits just before the window, so no
  // query ever sees a distance larger than S + W.
  int64_t SinkRopePosition(int64_t t, int32_t j) const { return WindowStart(t) - sinks + j; }
  bool IsSink(int64_t p) const { return !dense && p < sinks; }
};

}  // namespace accllm

#endif  // ACCLLM_WORKERS_ENGINE_ATTENTION_WINDOW_H_
