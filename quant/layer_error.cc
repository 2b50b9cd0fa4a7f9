#include "quant/layer_error.h"

#include <cmath>  // std::sqrt

#include "absl/strings/str_cat.h"  // absl::StrCat

namespace accllm {

absl::StatusOr<double> RelativeOutputError(std::span<const float> w, std::span<const float> w_hat,
                                           int64_t rows, int64_t cols, std::span<const float> x,
                                           int64_t samples) {
  const size_t n = static_cast<size_t>(rows * cols);
  if (rows <= 0 || cols <= 0 || w.size() != n || w_hat.size() != n ||
      x.size() != static_cast<size_t>(samples * cols)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "error of a [", rows, ", ", cols, "] layer with weights of ", w.size(), " and ",
        w_hat.size(), " values and activations of ", x.size(), " values (", samples, " samples)"));
  }
  double num = 0.0;
  double den = 0.0;
  for (int64_t s = 0; s < samples; ++s) {
    const float* xs = x.data() + s * cols;
    for (int64_t r = 0; r < rows; ++r) {
      const float* wr = w.data() + r * cols;
      const float* hr = w_hat.data() + r * cols;
      double y = 0.0;
      double d = 0.0;
      for (int64_t c = 0; c < cols; ++c) {
        y += static_cast<double>(wr[c]) * xs[c];
        d += (static_cast<double>(wr[c]) - hr[c]) * xs[c];
      }
      num += d * d;
      den += y * y;
    }
  }
  if (den == 0.0) return num == 0.0 ? 0.0 : std::sqrt(num);
  return std::sqrt(num / den);
}

}  // namespace accllm
