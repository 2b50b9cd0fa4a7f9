#include "client/quantize/calibration_capture.h"

#include <algorithm>  // std::max

#include "absl/strings/str_cat.h"                // absl::StrCat
#include "client/eval/evaluation.h"              // SampleStreams
#include "workers/engine/activation_observer.h"  // ActivationObserver
#include "workers/engine/kv_cache.h"             // KvCache

namespace accllm {
namespace {

class StatsObserver : public ActivationObserver {
 public:
  explicit StatsObserver(CalibrationStats& stats) : stats_(stats) {}
  void set_held_out(bool held_out) { held_out_ = held_out; }
  const absl::Status& status() const { return status_; }

  void Observe(int32_t layer, LayerLinear linear, std::span<const float> x) override {
    if (!status_.ok()) return;
    status_ = stats_.Add(layer, linear, x, held_out_);
  }

 private:
  CalibrationStats& stats_;
  bool held_out_ = false;
  absl::Status status_;
};

// Detaches the observer however the capture ends.
struct ObserverGuard {
  const LlamaModel& model;
  ~ObserverGuard() { model.set_observer(nullptr); }
};

}  // namespace

absl::StatusOr<std::vector<std::vector<int32_t>>> SampleCalibrationSequences(
    const LlamaModel& model, int32_t count, int32_t length, uint64_t seed) {
  if (count <= 0) return absl::InvalidArgumentError("--calib-samples must be positive");
  if (length < 2 || length > model.config().max_seq_len) {
    return absl::InvalidArgumentError(absl::StrCat("--calib-length must be in [2, ",
                                                   model.config().max_seq_len,
                                                   "] (the model's context), got ", length));
  }
  return SampleStreams(model, count, length, seed);
}

int32_t HeldOutCount(int32_t count) { return count < 2 ? 0 : std::max(1, count / 4); }

absl::Status CaptureCalibration(const LlamaModel& model,
                                const std::vector<std::vector<int32_t>>& sequences,
                                CalibrationStats& stats,
                                const std::function<void(int, int)>& progress) {
  const int32_t n = static_cast<int32_t>(sequences.size());
  const int32_t held_from = n - HeldOutCount(n);
  StatsObserver observer(stats);
  model.set_observer(&observer);
  ObserverGuard guard{model};
  for (int32_t i = 0; i < n; ++i) {
    const std::vector<int32_t>& seq = sequences[i];
    observer.set_held_out(i >= held_from);
    KvCache kv(model.config(), static_cast<int32_t>(seq.size()));
    for (size_t pos = 0; pos < seq.size(); ++pos) {
      if (absl::Status s = model.Forward(seq[pos], static_cast<int64_t>(pos), kv, {}); !s.ok()) {
        return absl::Status(
            s.code(), absl::StrCat("calibration sequence ", i + 1, ": ", std::string(s.message())));
      }
      if (!observer.status().ok()) return observer.status();
    }
    if (progress) progress(i + 1, n);
  }
  return absl::OkStatus();
}

}  // namespace accllm
