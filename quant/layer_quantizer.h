// Quantizes one linear layer as planned (rotation, RTN or GPTQ, dense or 2:4) and measures what
// it costs on held-out calibration inputs, next to the RTN baseline in the same format and
// rotation, so the per-layer report shows how much the Hessian-aware solver bought.
#ifndef ACCLLM_QUANT_LAYER_QUANTIZER_H_
#define ACCLLM_QUANT_LAYER_QUANTIZER_H_

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"    // absl::StatusOr
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

// w [rows, cols] (float, row-major). plan.keep_float is an error here.
absl::StatusOr<LayerQuantResult> QuantizeLayer(std::span<const float> w, int64_t rows, int64_t cols,
                                               const LayerPlan& plan,
                                               const LayerQuantInputs& inputs);

}  // namespace accllm

#endif  // ACCLLM_QUANT_LAYER_QUANTIZER_H_
