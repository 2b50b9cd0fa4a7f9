// How much a compressed linear layer changes its outputs: the relative reconstruction error
// ||(W - W_hat) X^T||_F / ||W X^T||_F on held-out calibration activations, the number the
// per-layer report of `accllm quantize` shows (and the one GPTQ is supposed to lower vs RTN).
#ifndef ACCLLM_QUANT_LAYER_ERROR_H_
#define ACCLLM_QUANT_LAYER_ERROR_H_

#include <cstdint>
#include <span>
#include <string>

#include "absl/status/statusor.h"  // absl::StatusOr

namespace accllm {

// w, w_hat [rows, cols]; x [samples, cols]. 0 when W X^T is zero and so is the difference.
absl::StatusOr<double> RelativeOutputError(std::span<const float> w, std::span<const float> w_hat,
                                           int64_t rows, int64_t cols, std::span<const float> x,
                                           int64_t samples);

// One row of the per-layer report.
struct LayerErrorReport {
  std::string name;              // e.g. model.layers.0.mlp.down_proj.weight
  std::string format;            // WeightFormat::ToString()
  double relative_error = 0.0;   // RelativeOutputError on held-out activations
  double bits_per_weight = 0.0;  // PackedLayout::bits_per_weight()
};

}  // namespace accllm

#endif  // ACCLLM_QUANT_LAYER_ERROR_H_
