#include "client/quantize/calibration_capture.h"

#include <algorithm>  // std::max, std::min
#include <memory>

#include "absl/strings/str_cat.h"                // absl::StrCat
#include "client/eval/evaluation.h"              // SampleStreams
#include "quant/parallel_for.h"                  // ParallelFor
#include "workers/engine/activation_observer.h"  // ActivationObserver
#include "workers/engine/kv_cache.h"             // KvCache

namespace accllm {
namespace {

// Buffers the rows a ForwardBatch reports for each input site; Flush feeds each site's rows
// to its accumulator as one rank-k update, the sites in parallel.
class BatchObserver : public ActivationObserver {
 public:
  BatchObserver(CalibrationStats& stats, int32_t n_layers) : stats_(stats) {
    sites_.resize(static_cast<size_t>(n_layers) * 4);
  }

  void Observe(int32_t layer, LayerLinear linear, std::span<const float> x) override {
    if (!IsFirstOfInput(linear) || layer < 0) return;  // q/k/v and gate/up share one input
    const size_t i = static_cast<size_t>(layer) * 4 + static_cast<size_t>(InputOf(linear));
    if (i >= sites_.size()) return;
    Site& s = sites_[i];
    s.layer = layer;
    s.linear = linear;
    s.cols = static_cast<int64_t>(x.size());
    s.rows.insert(s.rows.end(), x.begin(), x.end());
  }

  absl::Status Flush(bool held_out) {
    std::vector<absl::Status> status(sites_.size());
    ParallelFor(static_cast<int64_t>(sites_.size()), 0, [&](int64_t i) {
      Site& s = sites_[static_cast<size_t>(i)];
      if (s.rows.empty()) return;
      status[static_cast<size_t>(i)] = stats_.AddRows(
          s.layer, s.linear, s.rows, static_cast<int64_t>(s.rows.size()) / s.cols, held_out);
      s.rows.clear();
    });
    for (const absl::Status& st : status) {
      if (!st.ok()) return st;
    }
    return absl::OkStatus();
  }

 private:
  struct Site {
    int32_t layer = 0;
    LayerLinear linear = LayerLinear::kQ;
    int64_t cols = 0;
    std::vector<float> rows;  // [tokens, cols]
  };
  CalibrationStats& stats_;
  std::vector<Site> sites_;  // [layers * 4]
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
  BatchObserver observer(stats, model.config().n_layers);
  model.set_observer(&observer);
  ObserverGuard guard{model};
  // Up to kSequencesPerStep whole sequences (all fitting or all held out) as one batched prefill
  // step: every linear sees their tokens as one GEMM, so the weights stream once per step.
  constexpr int32_t kSequencesPerStep = 4;
  for (int32_t first = 0; first < n;) {
    const bool held_out = first >= held_from;
    const int32_t last = std::min(first + kSequencesPerStep, held_out ? n : held_from);
    std::vector<std::unique_ptr<KvCache>> caches;
    std::vector<LlamaModel::BatchToken> batch;
    for (int32_t i = first; i < last; ++i) {
      const std::vector<int32_t>& seq = sequences[i];
      KvCache* kv = caches
                        .emplace_back(std::make_unique<KvCache>(model.config(),
                                                                static_cast<int32_t>(seq.size())))
                        .get();
      for (size_t pos = 0; pos < seq.size(); ++pos) {
        batch.push_back(
            {.token = seq[pos], .pos = static_cast<int64_t>(pos), .kv = kv, .logits = {}});
      }
    }
    if (absl::Status s = model.ForwardBatch(batch); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("calibration sequences ", first + 1, "-", last,
                                                 ": ", std::string(s.message())));
    }
    if (absl::Status s = observer.Flush(held_out); !s.ok()) return s;
    first = last;
    if (progress) progress(first, n);
  }
  return absl::OkStatus();
}

}  // namespace accllm
