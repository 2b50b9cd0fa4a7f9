// Calibration statistics of a decoder: for every linear layer's input, the second moment
// H = (1/n) X^T X of the tokens used to fit (GPTQ's Hessian, Wanda's norms) and, separately, of
// held-out tokens (to measure each layer's output error on data the solver never saw:
// ||(W - W_hat) X^T||_F^2 = n * sum_r d_r^T H d_r with d_r the error of row r).
// Only these [cols, cols] moments are kept, not the activations, so the memory does not grow
// with the number of calibration tokens. q/k/v share one input, as do gate/up.
#ifndef ACCLLM_QUANT_CALIBRATION_H_
#define ACCLLM_QUANT_CALIBRATION_H_

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

#include "absl/status/status.h"    // absl::Status
#include "absl/status/statusor.h"  // absl::StatusOr
#include "model/config.h"          // ModelConfig
#include "model/tensor_names.h"    // LayerLinear
#include "quant/hessian.h"         // HessianAccumulator

namespace accllm {

// The distinct inputs of a decoder layer's linears.
enum class LinearInput { kAttnIn, kAttnOut, kFfnIn, kFfnHidden };
LinearInput InputOf(LayerLinear linear);
// The linear whose observed input stands for its site (kQ, kO, kGate, kDown).
bool IsFirstOfInput(LayerLinear linear);

class CalibrationStats {
 public:
  explicit CalibrationStats(const ModelConfig& config);

  // x [cols] is the input of `linear` of decoder layer `layer` for one token; only the first
  // linear of each input site is recorded (the others see the same x). held_out: goes to the
  // evaluation set instead of the fitting set.
  absl::Status Add(int32_t layer, LayerLinear linear, std::span<const float> x, bool held_out);

  // x [samples, cols]: many tokens' inputs at once (one rank-k update, see HessianAccumulator).
  // Accumulators of different sites may be fed from different threads at the same time.
  absl::Status AddRows(int32_t layer, LayerLinear linear, std::span<const float> x, int64_t samples,
                       bool held_out);

  const HessianAccumulator& Fit(int32_t layer, LayerLinear linear) const;
  const HessianAccumulator& HeldOut(int32_t layer, LayerLinear linear) const;
  int64_t fit_tokens() const;
  int64_t held_out_tokens() const;

 private:
  size_t Index(int32_t layer, LayerLinear linear) const;

  int32_t n_layers_;
  std::vector<HessianAccumulator> fit_;       // [layers * 4]
  std::vector<HessianAccumulator> held_out_;  // [layers * 4]
};

// A calibration file: whitespace-separated token ids, one sequence per line (blank lines are
// skipped). Errors name the file, the line and the item; ids must lie in [0, vocab_size) and a
// sequence may not exceed max_len tokens.
absl::StatusOr<std::vector<std::vector<int32_t>>> ReadCalibrationFile(
    const std::filesystem::path& path, int32_t vocab_size, int32_t max_len);

// ||(W - W_hat) X^T||_F / ||W X^T||_F from the inputs' second moment h [cols, cols]; w, w_hat
// [rows, cols]. 0 when both are zero.
// The same for several approximations of one W at once (the signal ||W X^T|| is formed once).
std::vector<double> RelativeOutputErrorsFromMoment(std::span<const float> w,
                                                   std::span<const std::span<const float>> w_hats,
                                                   int64_t rows, int64_t cols,
                                                   std::span<const double> h);
double RelativeOutputErrorFromMoment(std::span<const float> w, std::span<const float> w_hat,
                                     int64_t rows, int64_t cols, std::span<const double> h);

}  // namespace accllm

#endif  // ACCLLM_QUANT_CALIBRATION_H_
