#include "quant/layer_quantizer.h"

#include <cmath>  // std::sqrt, NAN

#include "absl/strings/str_cat.h"  // absl::StrCat
#include "quant/calibration.h"     // RelativeOutputErrorFromMoment
#include "quant/gptq.h"            // QuantizeGptq
#include "quant/hadamard.h"        // IsPowerOfTwo
#include "quant/rtn.h"             // QuantizeRtn
#include "quant/sparse24.h"        // WandaMask24

namespace accllm {

Rotation InputRotationFor(int64_t cols, uint64_t seed) {
  return IsPowerOfTwo(cols) ? Rotation::Hadamard(cols, seed)
                            : Rotation::RandomOrthogonal(cols, seed);
}

std::vector<double> RotateMoment(const Rotation& q, std::span<const double> h) {
  const int64_t n = q.size();
  const std::vector<float> qf = q.Matrix();
  std::vector<double> m(static_cast<size_t>(n * n), 0.0);  // Q H
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = 0; k < n; ++k) {
      const double a = qf[i * n + k];
      if (a == 0.0) continue;
      const double* hk = h.data() + k * n;
      double* mi = m.data() + i * n;
      for (int64_t j = 0; j < n; ++j) mi[j] += a * hk[j];
    }
  }
  std::vector<double> out(static_cast<size_t>(n * n), 0.0);  // (Q H) Q^T
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double s = 0.0;
      for (int64_t k = 0; k < n; ++k) s += m[i * n + k] * qf[j * n + k];
      out[i * n + j] = s;
    }
  }
  return out;
}

absl::StatusOr<LayerQuantResult> QuantizeLayer(std::span<const float> w, int64_t rows, int64_t cols,
                                               const LayerPlan& plan,
                                               const LayerQuantInputs& inputs) {
  if (plan.keep_float) return absl::InvalidArgumentError("layer is planned to stay float");
  const size_t hn = static_cast<size_t>(cols * cols);
  if ((!inputs.fit.empty() && inputs.fit.size() != hn) ||
      (!inputs.held_out.empty() && inputs.held_out.size() != hn)) {
    return absl::InvalidArgumentError(
        absl::StrCat("calibration moments do not match the layer's ", cols, " inputs"));
  }
  if (plan.method == QuantMethod::kGptq && inputs.fit.empty()) {
    return absl::FailedPreconditionError("GPTQ needs calibration inputs");
  }
  LayerQuantResult result;
  std::vector<float> wr(w.begin(), w.end());
  std::vector<double> fit(inputs.fit.begin(), inputs.fit.end());
  std::vector<double> held(inputs.held_out.begin(), inputs.held_out.end());
  if (plan.rotate) {
    // Quantize W' = W Q^T, whose inputs are Q x (second moment Q H Q^T).
    result.rotation = InputRotationFor(cols, inputs.rotation_seed);
    RotateWeightInputs(*result.rotation, wr);
    if (!fit.empty()) fit = RotateMoment(*result.rotation, fit);
    if (!held.empty()) held = RotateMoment(*result.rotation, held);
  }

  // RTN baseline (and the RTN plan): 2:4 by Wanda's |W| * ||x|| when inputs are known.
  std::vector<uint8_t> keep;
  if (plan.format.sparsity == Sparsity::k2of4 && !fit.empty()) {
    std::vector<float> norms(static_cast<size_t>(cols));
    for (int64_t j = 0; j < cols; ++j) norms[j] = static_cast<float>(std::sqrt(fit[j * cols + j]));
    keep = WandaMask24(wr, rows, cols, norms);
  }
  absl::StatusOr<QuantizedLinear> rtn = QuantizeRtn(wr, rows, cols, plan.format, {}, keep);
  if (!rtn.ok()) return rtn.status();

  if (plan.method == QuantMethod::kGptq) {
    GptqOptions options;
    options.damp_percent = inputs.damp_percent;
    options.mask_selection = MaskSelection::kSparseGpt;
    absl::StatusOr<QuantizedLinear> g = QuantizeGptq(wr, rows, cols, plan.format, fit, options);
    if (!g.ok()) return g.status();
    result.q = *std::move(g);
  } else {
    result.q = *rtn;
  }

  if (held.empty()) {
    result.relative_error = result.rtn_relative_error = NAN;
  } else {
    const std::vector<float> w_hat = DequantizeLinear(result.q.view());
    const std::vector<float> w_rtn = DequantizeLinear(rtn->view());
    result.relative_error = RelativeOutputErrorFromMoment(wr, w_hat, rows, cols, held);
    result.rtn_relative_error = RelativeOutputErrorFromMoment(wr, w_rtn, rows, cols, held);
  }
  return result;
}

}  // namespace accllm
