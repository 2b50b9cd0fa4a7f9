// Round-to-nearest quantization of a whole linear layer, with a per-group clipping search (the
// range of each group is shrunk by each of a few ratios and the one with the least squared error
// is kept). The baseline GPTQ is measured against, and the fallback when no calibration data is
// available.
#ifndef ACCLLM_QUANT_RTN_H_
#define ACCLLM_QUANT_RTN_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"    // absl::StatusOr
#include "quant/group_quantizer.h"   // DefaultClipRatios
#include "quant/quantized_linear.h"  // QuantizedLinear, UnpackedLinear
#include "quant/weight_format.h"     // WeightFormat

namespace accllm {

struct RtnOptions {
  std::vector<float> clip_ratios = DefaultClipRatios();  // {1.0}: plain min/max
};

// w [rows, cols] -> packed layer. For 2:4, `keep` [rows, cols] is the kept-weight mask (e.g.
// WandaMask24); empty means by magnitude |w|. Non-finite weights are an error.
absl::StatusOr<UnpackedLinear> QuantizeRtnUnpacked(std::span<const float> w, int64_t rows,
                                                   int64_t cols, const WeightFormat& format,
                                                   const RtnOptions& options = {},
                                                   std::span<const uint8_t> keep = {});
absl::StatusOr<QuantizedLinear> QuantizeRtn(std::span<const float> w, int64_t rows, int64_t cols,
                                            const WeightFormat& format,
                                            const RtnOptions& options = {},
                                            std::span<const uint8_t> keep = {});

// Shared by the solvers: the shape and weights are sane for `format`.
absl::Status CheckWeights(std::span<const float> w, int64_t rows, int64_t cols,
                          const WeightFormat& format);

}  // namespace accllm

#endif  // ACCLLM_QUANT_RTN_H_
