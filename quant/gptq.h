// Hessian-aware rounding (GPTQ, Frantar et al. 2022) and its joint prune + quantize extension
// for 2:4 (SparseGPT, Frantar & Alistarh 2023).
//
// Columns are quantized left to right; the rounding (and pruning) error of each column is spread
// over the columns not yet quantized through the upper Cholesky factor of H^-1, so later columns
// compensate what earlier ones lost on the calibration inputs. Updates inside a block of columns
// are applied at once, the rest lazily per block. A group's scale/zero is chosen when its first
// column is reached, from the weights as compensated so far (with the clipping search). For
// 2:4, each block of 4 columns is pruned when reached, keeping the two with the least
// w^2 / [H^-1]_jj^2 (SparseGPT's saliency), or by a fixed Wanda mask chosen up front.
#ifndef ACCLLM_QUANT_GPTQ_H_
#define ACCLLM_QUANT_GPTQ_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"    // absl::StatusOr
#include "quant/group_quantizer.h"   // DefaultClipRatios
#include "quant/quantized_linear.h"  // QuantizedLinear, UnpackedLinear
#include "quant/weight_format.h"     // WeightFormat

namespace accllm {

enum class MaskSelection {
  kSparseGpt,  // joint: pruned inside the GPTQ loop by saliency on the compensated weights
  kWanda,      // fixed before the loop: |W_ij| * ||x_j|| (||x_j|| = sqrt(n H_jj))
};

struct GptqOptions {
  double damp_percent = 0.01;  // H += damp_percent * mean(diag H) * I
  int block_size = 128;        // lazy-update block (rounded to whole groups)
  std::vector<float> clip_ratios = DefaultClipRatios();
  MaskSelection mask_selection = MaskSelection::kSparseGpt;
};

// What GPTQ needs of a Hessian, computed once for all the linears that share an input (q/k/v,
// gate/up): the upper Cholesky factor U of the damped H^-1, the damped diagonal (the groups'
// importance), the dead columns and the inputs' norms sqrt(H_jj) (Wanda).
struct GptqFactor {
  int64_t cols = 0;
  std::vector<double> u;      // [cols, cols] upper, H^-1 = U^T U
  std::vector<double> diag;   // [cols] damped H_jj
  std::vector<uint8_t> dead;  // [cols] H_jj == 0: no input ever reached the column
  std::vector<float> norms;   // [cols] sqrt(H_jj) of the undamped H
};

// A nearly singular H (few samples) is retried with more damping before giving up.
absl::StatusOr<GptqFactor> FactorHessian(std::span<const double> hessian, int64_t cols,
                                         double damp_percent);

// With a factor from FactorHessian (options.damp_percent is not used again).
absl::StatusOr<UnpackedLinear> QuantizeGptqUnpacked(std::span<const float> w, int64_t rows,
                                                    int64_t cols, const WeightFormat& format,
                                                    const GptqFactor& factor,
                                                    const GptqOptions& options = {});

// w [rows, cols], hessian [cols, cols] (HessianAccumulator::Hessian()). Columns no calibration
// input ever touched (H_jj == 0) are quantized as zero weights, as in the reference GPTQ.
absl::StatusOr<UnpackedLinear> QuantizeGptqUnpacked(std::span<const float> w, int64_t rows,
                                                    int64_t cols, const WeightFormat& format,
                                                    std::span<const double> hessian,
                                                    const GptqOptions& options = {});
absl::StatusOr<QuantizedLinear> QuantizeGptq(std::span<const float> w, int64_t rows, int64_t cols,
                                             const WeightFormat& format,
                                             std::span<const double> hessian,
                                             const GptqOptions& options = {});

}  // namespace accllm

#endif  // ACCLLM_QUANT_GPTQ_H_
