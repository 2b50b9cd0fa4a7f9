#include "quant/layer_quantizer.h"

#include <cmath>  // std::sqrt, NAN

#include "absl/strings/str_cat.h"  // absl::StrCat
#include "quant/calibration.h"     // RelativeOutputErrorFromMoment
#include "quant/dense_kernels.h"   // GemmAccumulate
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
  std::vector<double> qd(qf.begin(), qf.end()), qt(qf.size());
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) qt[j * n + i] = qd[i * n + j];
  }
  std::vector<double> m(static_cast<size_t>(n * n), 0.0);  // Q H
  GemmAccumulate(n, n, n, qd.data(), n, h.data(), n, m.data(), n);
  std::vector<double> out(static_cast<size_t>(n * n), 0.0);  // (Q H) Q^T
  GemmAccumulate(n, n, n, m.data(), n, qt.data(), n, out.data(), n);
  // Exactly symmetric, as a second moment is (the two triangles round differently).
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = i + 1; j < n; ++j) {
      const double v = 0.5 * (out[i * n + j] + out[j * n + i]);
      out[i * n + j] = out[j * n + i] = v;
    }
  }
  return out;
}

absl::StatusOr<PreparedInputs> PrepareInputs(int64_t cols, const LayerQuantInputs& inputs,
                                             bool rotate, bool gptq) {
  const size_t hn = static_cast<size_t>(cols * cols);
  if ((!inputs.fit.empty() && inputs.fit.size() != hn) ||
      (!inputs.held_out.empty() && inputs.held_out.size() != hn)) {
    return absl::InvalidArgumentError(
        absl::StrCat("calibration moments do not match the layer's ", cols, " inputs"));
  }
  PreparedInputs p;
  p.cols = cols;
  p.fit.assign(inputs.fit.begin(), inputs.fit.end());
  p.held_out.assign(inputs.held_out.begin(), inputs.held_out.end());
  if (rotate) {
    // Quantize W' = W Q^T, whose inputs are Q x (second moment Q H Q^T).
    p.rotation = InputRotationFor(cols, inputs.rotation_seed);
    if (!p.fit.empty()) p.fit = RotateMoment(*p.rotation, p.fit);
    if (!p.held_out.empty()) p.held_out = RotateMoment(*p.rotation, p.held_out);
  }
  if (gptq) {
    if (p.fit.empty()) {
      p.factor_status = absl::FailedPreconditionError("GPTQ needs calibration inputs");
    } else {
      absl::StatusOr<GptqFactor> f = FactorHessian(p.fit, cols, inputs.damp_percent);
      if (f.ok()) {
        p.factor = *std::move(f);
      } else {
        p.factor_status = f.status();
      }
    }
  }
  return p;
}

absl::StatusOr<LayerQuantResult> QuantizePreparedLayer(std::span<const float> w, int64_t rows,
                                                       int64_t cols, const LayerPlan& plan,
                                                       const PreparedInputs& inputs) {
  if (plan.keep_float) return absl::InvalidArgumentError("layer is planned to stay float");
  if (inputs.cols != cols || plan.rotate != inputs.rotation.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "inputs were prepared for ", inputs.cols, " columns", inputs.rotation ? " rotated" : "",
        ", the layer has ", cols, plan.rotate ? " rotated" : ""));
  }
  if (plan.method == QuantMethod::kGptq && !inputs.factor) {
    if (!inputs.factor_status.ok()) return inputs.factor_status;
    return absl::FailedPreconditionError("GPTQ needs calibration inputs");
  }
  LayerQuantResult result;
  result.rotation = inputs.rotation;
  std::vector<float> wr(w.begin(), w.end());
  if (result.rotation) RotateWeightInputs(*result.rotation, wr);
  const std::vector<double>& fit = inputs.fit;
  const std::vector<double>& held = inputs.held_out;

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
    options.mask_selection = MaskSelection::kSparseGpt;
    absl::StatusOr<UnpackedLinear> g =
        QuantizeGptqUnpacked(wr, rows, cols, plan.format, *inputs.factor, options);
    if (!g.ok()) return g.status();
    absl::StatusOr<QuantizedLinear> packed = PackLinear(*g);
    if (!packed.ok()) return packed.status();
    result.q = *std::move(packed);
  } else {
    result.q = *rtn;
  }

  if (held.empty()) {
    result.relative_error = result.rtn_relative_error = NAN;
  } else {
    // O(rows · cols²) each, as much as GPTQ itself: the RTN plan's error is RTN's, and
    // GPTQ's and RTN's share the signal term.
    const std::vector<float> w_rtn = DequantizeLinear(rtn->view());
    if (plan.method == QuantMethod::kGptq) {
      const std::vector<float> w_hat = DequantizeLinear(result.q.view());
      const std::span<const float> hats[] = {w_hat, w_rtn};
      const std::vector<double> e = RelativeOutputErrorsFromMoment(wr, hats, rows, cols, held);
      result.relative_error = e[0];
      result.rtn_relative_error = e[1];
    } else {
      result.relative_error = result.rtn_relative_error =
          RelativeOutputErrorFromMoment(wr, w_rtn, rows, cols, held);
    }
  }
  return result;
}

absl::StatusOr<LayerQuantResult> QuantizeLayer(std::span<const float> w, int64_t rows, int64_t cols,
                                               const LayerPlan& plan,
                                               const LayerQuantInputs& inputs) {
  if (plan.keep_float) return absl::InvalidArgumentError("layer is planned to stay float");
  absl::StatusOr<PreparedInputs> p =
      PrepareInputs(cols, inputs, plan.rotate, plan.method == QuantMethod::kGptq);
  if (!p.ok()) return p.status();
  return QuantizePreparedLayer(w, rows, cols, plan, *p);
}

}  // namespace accllm
