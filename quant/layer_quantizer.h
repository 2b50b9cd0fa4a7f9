// Quantizes one linear layer as planned (rotation, RTN or GPTQ, dense or 2:4) and measures what
// it costs on held-out calibration inputs, next to the RTN baseline in the same format and
// rotation, so the per-layer report shows how much the Hessian-aware solver bought.
#ifndef ACCLLM_QUANT_LAYER_QUANTIZER_H_
#define ACCLLM_QUANT_LAYER_QUANTIZER_H_

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/status.h"      // absl::Status
#include "absl/status/statusor.h"    // absl::StatusOr
#include "quant/gptq.h"              // GptqFactor
#include "quant/layer_config.h"      // LayerPlan
#include "quant/quantized_linear.h"  // QuantizedLinear
#include "quant/rotation.h"          // Rotation

namespace accllm {

struct LayerQuantInputs {
  // Second moments [cols, cols] of the layer's inputs (CalibrationStats): `fit` drives GPTQ and
  // Wanda; `held_out` measures the error. Empty: no calibration (RTN, magnitude 2:4, no error).
  std::span<const double> fit;
  std::span<const double> held_out;
  double damp_percent = 0.01;
  uint64_t rotation_seed = 0;  // plan.rotate: the seed of the input rotation
};

struct LayerQuantResult {
  QuantizedLinear q;                 // of W' = W Q^T when rotated, else of W
  std::optional<Rotation> rotation;  // Q: the engine computes W' (Q x)
  // Relative output error on held-out inputs (NaN without them), of the plan and of plain RTN
  // (Wanda mask for 2:4) in the same format and rotation.
  double relative_error = 0.0;
  double rtn_relative_error = 0.0;
};

// The rotation used for `cols` inputs: Hadamard (H D, regenerated from the seed) for a power of
// two, else a random orthogonal matrix that must be stored with the model.
Rotation InputRotationFor(int64_t cols, uint64_t seed);

// Q H Q^T: the second moment of rotated inputs Q x, h [n, n].
std::vector<double> RotateMoment(const Rotation& q, std::span<const double> h);

// The calibration side of one input site, prepared once for every linear that reads it (q/k/v,
// gate/up) under the same rotation choice: rotation, (rotated) moments and GPTQ's factor.
struct PreparedInputs {
  int64_t cols = 0;
  std::optional<Rotation> rotation;   // set: the moments below are of rotated inputs Q x
  std::vector<double> fit, held_out;  // [cols, cols], or empty (no calibration)
  std::optional<GptqFactor> factor;   // of `fit`, when asked for and it factored
  absl::Status factor_status;         // why `factor` is missing when it was asked for
};

// rotate: as plan.rotate; gptq: also factor the fitting moment (inputs.damp_percent).
absl::StatusOr<PreparedInputs> PrepareInputs(int64_t cols, const LayerQuantInputs& inputs,
                                             bool rotate, bool gptq);

// w [rows, cols] with inputs prepared for plan.rotate (and plan.method).
absl::StatusOr<LayerQuantResult> QuantizePreparedLayer(std::span<const float> w, int64_t rows,
                                                       int64_t cols, const LayerPlan& plan,
                                                       const PreparedInputs& inputs);

// w [rows, cols] (float, row-major). plan.keep_float is an error here.
absl::StatusOr<LayerQuantResult> QuantizeLayer(std::span<const float> w, int64_t rows, int64_t cols,
                                               const LayerPlan& plan,
                                               const LayerQuantInputs& inputs);

}  // namespace accllm

#endif  // ACCLLM_QUANT_LAYER_QUANTIZER_H_
