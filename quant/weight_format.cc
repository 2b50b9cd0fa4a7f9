#include "quant/weight_format.h"

#include "absl/strings/str_cat.h"  // absl::StrCat

namespace accllm {

std::string_view WeightSchemeName(WeightScheme scheme) {
  return scheme == WeightScheme::kPow2 ? "pow2" : "uniform";
}

absl::StatusOr<WeightScheme> ParseWeightScheme(std::string_view name) {
  if (name == "uniform") return WeightScheme::kUniform;
  if (name == "pow2") return WeightScheme::kPow2;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown weight scheme \"", std::string(name), "\" (expected uniform | pow2)"));
}

std::string_view SparsityName(Sparsity sparsity) {
  return sparsity == Sparsity::k2of4 ? "2:4" : "dense";
}

absl::StatusOr<Sparsity> ParseSparsity(std::string_view name) {
  if (name == "dense") return Sparsity::kDense;
  if (name == "2:4") return Sparsity::k2of4;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown sparsity \"", std::string(name), "\" (expected dense | 2:4)"));
}

std::string_view ZeroPointName(ZeroPoint zero_point) {
  return zero_point == ZeroPoint::kInteger ? "integer" : "fractional";
}

absl::StatusOr<ZeroPoint> ParseZeroPoint(std::string_view name) {
  if (name == "fractional") return ZeroPoint::kFractional;
  if (name == "integer") return ZeroPoint::kInteger;
  return absl::InvalidArgumentError(absl::StrCat("unknown zero point \"", std::string(name),
                                                 "\" (expected fractional | integer)"));
}

std::string WeightFormat::ToString() const {
  return absl::StrCat("w", bits, " ", std::string(WeightSchemeName(scheme)), " g", group,
                      sparsity == Sparsity::k2of4 ? " 2:4" : "",
                      zero_point == ZeroPoint::kInteger ? " int-zero" : "");
}

absl::Status ValidateWeightFormat(const WeightFormat& f) {
  if (f.scheme == WeightScheme::kUniform) {
    if (f.bits != 2 && f.bits != 3 && f.bits != 4 && f.bits != 8) {
      return absl::InvalidArgumentError(
          absl::StrCat("bits ", f.bits, " not supported by the uniform scheme (2, 3, 4 or 8)"));
    }
  } else if (f.bits != 2 && f.bits != 3 && f.bits != 4) {
    // 2^(bits-1) exponents: 8 bits would span 2^127, beyond any fp16 scale.
    return absl::InvalidArgumentError(
        absl::StrCat("bits ", f.bits, " not supported by the pow2 scheme (2, 3 or 4)"));
  }
  if (f.group < 1 || f.group > kMaxGroupSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("group size ", f.group, " out of range [1, ", kMaxGroupSize, "]"));
  }
  if (f.sparsity == Sparsity::k2of4 && f.group % 4 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("group size ", f.group,
                     " must be a multiple of 4 with 2:4 sparsity (a block of 4 "
                     "columns never spans two groups)"));
  }
  if (f.zero_point == ZeroPoint::kInteger && f.scheme != WeightScheme::kUniform) {
    return absl::InvalidArgumentError(
        "zero point integer needs the uniform scheme (pow2 has no zero points)");
  }
  return absl::OkStatus();
}

int64_t PackedLayout::total_bits() const {
  const int64_t groups = rows * num_groups;
  return qweight_bytes() * 8 + groups * 16 + (has_zeros ? groups * 16 : 0) + mask_bytes() * 8;
}

double PackedLayout::bits_per_weight() const {
  const int64_t n = rows * cols;
  return n > 0 ? static_cast<double>(total_bits()) / static_cast<double>(n) : 0.0;
}

absl::StatusOr<PackedLayout> ComputePackedLayout(const WeightFormat& format, int64_t rows,
                                                 int64_t cols) {
  if (absl::Status s = ValidateWeightFormat(format); !s.ok()) return s;
  if (rows <= 0 || cols <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("matrix shape [", rows, ", ", cols, "] must be positive"));
  }
  const bool sparse = format.sparsity == Sparsity::k2of4;
  if (sparse && cols % 4 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("2:4 sparsity needs in features (", cols, ") to be a multiple of 4"));
  }
  PackedLayout l;
  l.rows = rows;
  l.cols = cols;
  l.num_groups = (cols + format.group - 1) / format.group;
  l.stored_cols = sparse ? cols / 2 : cols;
  l.qweight_row_bytes = (l.stored_cols * format.bits + 7) / 8;
  l.mask_row_bytes = sparse ? (cols / 4 + 1) / 2 : 0;
  l.has_zeros = format.scheme == WeightScheme::kUniform;
  l.has_mask = sparse;
  return l;
}

}  // namespace accllm
