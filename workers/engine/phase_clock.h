// Where a forward step's wall time goes, phase by phase (norms, the GEMMs, attention, ...),
// as `accllm bench-engine --json` reports it (phases_ms). Timed on the calling thread, so a
// phase includes waking and joining the kernel threads it uses: that is what a step costs.
// Always on: a lap is one steady_clock read and a relaxed add, ~12 per layer, microseconds
// per step against milliseconds of kernels.
#ifndef ACCLLM_WORKERS_ENGINE_PHASE_CLOCK_H_
#define ACCLLM_WORKERS_ENGINE_PHASE_CLOCK_H_

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace accllm {

enum class EnginePhase : int {
  kEmbed,      // embedding rows
  kNorm,       // RMSNorms (attention, FFN, final)
  kQkv,        // Q/K/V projections (one shared pass over the input)
  kRope,       // rotary embedding of the queries
  kKvStore,    // K/V written to the cache (quantized there for KV4)
  kAttention,  // scores, softmax and values over the cache
  kOutProj,    // attention output projection
  kResidual,   // residual adds
  kGateUp,     // FFN gate and up projections
  kSwiGlu,     // silu(gate) * up
  kDown,       // FFN down projection
  kHead,       // LM head (and copying the logits out)
  kCount,
};

inline constexpr int kEnginePhaseCount = static_cast<int>(EnginePhase::kCount);

// Snake-case name, as reported ("qkv", "attention", ...).
std::string_view EnginePhaseName(EnginePhase phase);

// Nanoseconds spent per phase since construction; safe to add from concurrent steps.
class PhaseTotals {
 public:
  void Add(EnginePhase phase, int64_t ns) {
    ns_[static_cast<int>(phase)].fetch_add(ns, std::memory_order_relaxed);
  }
  std::array<double, kEnginePhaseCount> Seconds() const {
    std::array<double, kEnginePhaseCount> s{};
    for (int i = 0; i < kEnginePhaseCount; ++i) {
      s[i] = 1e-9 * static_cast<double>(ns_[i].load(std::memory_order_relaxed));
    }
    return s;
  }

 private:
  std::array<std::atomic<int64_t>, kEnginePhaseCount> ns_{};
};

// A stopwatch over consecutive phases: Lap(p) charges the time since the previous lap to p.
class PhaseClock {
 public:
  explicit PhaseClock(PhaseTotals& totals) : totals_(totals), last_(Now()) {}
  void Lap(EnginePhase phase) {
    const int64_t now = Now();
    totals_.Add(phase, now - last_);
    last_ = now;
  }

 private:
  static int64_t Now() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  PhaseTotals& totals_;
  int64_t last_;
};

}  // namespace accllm

#endif  // ACCLLM_WORKERS_ENGINE_PHASE_CLOCK_H_
