// Collecting calibration statistics by running the float model: self-calibration sequences
// sampled from the model itself (or real text, or token ids from a file) go through
// LlamaModel::ForwardBatch, a few whole sequences per batched prefill step, with an
// ActivationObserver that buffers every linear's input and feeds each input site's rows into
// CalibrationStats as one rank-k update. Lives above the engine (quant/ does not depend on it).
#ifndef ACCLLM_CLIENT_QUANTIZE_CALIBRATION_CAPTURE_H_
#define ACCLLM_CLIENT_QUANTIZE_CALIBRATION_CAPTURE_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/status.h"          // absl::Status
#include "absl/status/statusor.h"        // absl::StatusOr
#include "quant/calibration.h"           // CalibrationStats
#include "workers/engine/llama_model.h"  // LlamaModel

namespace accllm {

// `count` sequences of `length` tokens (BOS + sampled), temperature 1, seeded.
absl::StatusOr<std::vector<std::vector<int32_t>>> SampleCalibrationSequences(
    const LlamaModel& model, int32_t count, int32_t length, uint64_t seed);

// How many of `count` sequences are held out for the error report: a quarter, at least one when
// there are two or more (so the solver never fits the data it is judged on).
int32_t HeldOutCount(int32_t count);

// Runs every sequence through `model` (dense caches, up to 4 sequences per ForwardBatch); the last
// HeldOutCount() sequences go to the held-out set. The statistics equal those of running the
// tokens one by one through Forward, up to the summation order. progress(done, total) after
// each sequence.
absl::Status CaptureCalibration(const LlamaModel& model,
                                const std::vector<std::vector<int32_t>>& sequences,
                                CalibrationStats& stats,
                                const std::function<void(int, int)>& progress = nullptr);

}  // namespace accllm

#endif  // ACCLLM_CLIENT_QUANTIZE_CALIBRATION_CAPTURE_H_
