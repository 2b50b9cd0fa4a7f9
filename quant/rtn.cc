#include "quant/rtn.h"

#include <algorithm>  // std::min
#include <cmath>      // std::fabs, std::isfinite

#include "absl/strings/str_cat.h"  // absl::StrCat
#include "quant/sparse24.h"        // Select24Mask, Is24Pattern

namespace accllm {

absl::Status CheckWeights(std::span<const float> w, int64_t rows, int64_t cols,
                          const WeightFormat& format) {
  absl::StatusOr<PackedLayout> layout = ComputePackedLayout(format, rows, cols);
  if (!layout.ok()) return layout.status();
  if (w.size() != static_cast<size_t>(rows * cols)) {
    return absl::InvalidArgumentError(
        absl::StrCat("weights hold ", w.size(), " values, expected [", rows, ", ", cols, "]"));
  }
  for (size_t i = 0; i < w.size(); ++i) {
    if (!std::isfinite(w[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("weight [", i / cols, ", ", i % cols, "] is not finite"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<UnpackedLinear> QuantizeRtnUnpacked(std::span<const float> w, int64_t rows,
                                                   int64_t cols, const WeightFormat& format,
                                                   const RtnOptions& options,
                                                   std::span<const uint8_t> keep) {
  if (absl::Status s = CheckWeights(w, rows, cols, format); !s.ok()) return s;
  UnpackedLinear u;
  u.format = format;
  u.rows = rows;
  u.cols = cols;
  u.codes.assign(w.size(), 0);
  if (format.sparsity == Sparsity::k2of4) {
    if (keep.empty()) {
      std::vector<float> magnitude(w.size());
      for (size_t i = 0; i < w.size(); ++i) magnitude[i] = std::fabs(w[i]);
      u.keep = Select24Mask(magnitude, rows, cols);
    } else {
      if (!Is24Pattern(keep, rows, cols)) {
        return absl::InvalidArgumentError("keep mask is not 2:4 (two kept in every 4 columns)");
      }
      u.keep.assign(keep.begin(), keep.end());
    }
  } else if (!keep.empty()) {
    return absl::InvalidArgumentError("a keep mask was given for a dense format");
  }
  const int64_t groups = (cols + format.group - 1) / format.group;
  u.scales.assign(static_cast<size_t>(rows * groups), 0.0f);
  if (format.scheme == WeightScheme::kUniform) u.zeros.assign(u.scales.size(), 0.0f);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t begin = r * cols + g * format.group;
      const int64_t len = std::min<int64_t>(format.group, cols - g * format.group);
      const std::span<const float> gw =
          w.subspan(static_cast<size_t>(begin), static_cast<size_t>(len));
      std::span<const uint8_t> gkeep;
      if (!u.keep.empty()) {
        gkeep = std::span<const uint8_t>(u.keep).subspan(static_cast<size_t>(begin),
                                                         static_cast<size_t>(len));
      }
      const GroupParams p =
          ChooseGroupParams(gw, gkeep, {}, format.scheme, format.bits, options.clip_ratios,
                            format.zero_point);
      u.scales[static_cast<size_t>(r * groups + g)] = p.scale;
      if (!u.zeros.empty()) u.zeros[static_cast<size_t>(r * groups + g)] = p.zero;
      for (int64_t i = 0; i < len; ++i) {
        if (!gkeep.empty() && !gkeep[static_cast<size_t>(i)]) continue;
        u.codes[static_cast<size_t>(begin + i)] =
            QuantizeToCode(gw[static_cast<size_t>(i)], p, format.scheme, format.bits);
      }
    }
  }
  return u;
}

absl::StatusOr<QuantizedLinear> QuantizeRtn(std::span<const float> w, int64_t rows, int64_t cols,
                                            const WeightFormat& format, const RtnOptions& options,
                                            std::span<const uint8_t> keep) {
  absl::StatusOr<UnpackedLinear> u = QuantizeRtnUnpacked(w, rows, cols, format, options, keep);
  if (!u.ok()) return u.status();
  return PackLinear(*u);
}

}  // namespace accllm
