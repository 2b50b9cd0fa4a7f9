#include "quant/reference_matvec.h"

#include <algorithm>  // std::min
#include <cstdint>

#include "absl/strings/str_cat.h"  // absl::StrCat
#include "quant/bit_pack.h"        // GetPackedCode

namespace accllm {
namespace {

absl::Status CheckSizes(const QuantizedLinearView& w, size_t x_size, size_t y_size) {
  if (x_size != static_cast<size_t>(w.layout.cols) ||
      y_size != static_cast<size_t>(w.layout.rows)) {
    return absl::InvalidArgumentError(absl::StrCat("matvec of a [", w.layout.rows, ", ",
                                                   w.layout.cols, "] layer with x of ", x_size,
                                                   " and y of ", y_size, " elements"));
  }
  return absl::OkStatus();
}

// Shared by both paths: Acc is int32_t (A8) or float (A16); x(i) gives activation i.
template <typename Acc, typename XFn>
void MatVec(const QuantizedLinearView& w, XFn x, std::span<float> y) {
  const PackedLayout& l = w.layout;
  const int bits = w.format.bits;
  const int group = w.format.group;
  const bool uniform = w.format.scheme == WeightScheme::kUniform;
  for (int64_t r = 0; r < l.rows; ++r) {
    const std::span<const uint8_t> row = w.qweight_row(r);
    float out = 0.0f;
    int64_t j = 0;  // stored index, advances only over kept weights
    for (int64_t g = 0; g < l.num_groups; ++g) {
      const int64_t begin = g * group;
      const int64_t end = std::min<int64_t>(begin + group, l.cols);
      Acc acc = 0;
      Acc xsum = 0;
      for (int64_t c = begin; c < end; ++c) {
        if (l.has_mask && !((w.block_mask(r, c / 4) >> (c % 4)) & 1)) continue;
        const Acc xi = x(c);
        acc +=
            static_cast<Acc>(CodeToInt(GetPackedCode(row, j++, bits), w.format.scheme, bits)) * xi;
        xsum += xi;
      }
      const GroupParams p = w.params(r, g);
      out += uniform ? p.scale * (static_cast<float>(acc) - p.zero * static_cast<float>(xsum))
                     : p.scale * static_cast<float>(acc);
    }
    y[static_cast<size_t>(r)] = out;
  }
}

}  // namespace

absl::Status MatVecA8(const QuantizedLinearView& w, const A8Vector& x, std::span<float> y) {
  if (absl::Status s = CheckSizes(w, x.values.size(), y.size()); !s.ok()) return s;
  MatVec<int32_t>(
      w, [&](int64_t i) { return static_cast<int32_t>(x.values[i]); }, y);
  for (float& v : y) v *= x.scale;
  return absl::OkStatus();
}

absl::Status MatVecA16(const QuantizedLinearView& w, std::span<const float> x, std::span<float> y) {
  if (absl::Status s = CheckSizes(w, x.size(), y.size()); !s.ok()) return s;
  MatVec<float>(
      w, [&](int64_t i) { return x[static_cast<size_t>(i)]; }, y);
  return absl::OkStatus();
}

}  // namespace accllm
