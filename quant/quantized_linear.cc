#include "quant/quantized_linear.h"

#include <algorithm>  // std::fill
#include <cmath>      // std::isfinite

#include "absl/strings/str_cat.h"  // absl::StrCat
#include "model/dtype.h"           // FloatToHalf, HalfToFloat
#include "quant/bit_pack.h"        // OrPackedCode, PaddingIsZero, UnpackCodes
#include "quant/sparse24.h"        // IsValid24Mask, Is24Pattern

namespace accllm {
namespace {

absl::Status SizeMismatch(std::string_view tensor, size_t got, int64_t want) {
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(tensor), " holds ", got, " elements, expected ", want));
}

}  // namespace

GroupParams QuantizedLinearView::params(int64_t r, int64_t g) const {
  const size_t i = static_cast<size_t>(r * layout.num_groups + g);
  GroupParams p;
  p.scale = HalfToFloat(scales[i]);
  p.zero = zeros.empty() ? 0.0f : HalfToFloat(zeros[i]);
  return p;
}

QuantizedLinearView QuantizedLinear::view() const {
  QuantizedLinearView v;
  v.format = format;
  v.layout = layout;
  v.qweight = qweight;
  v.scales = scales;
  v.zeros = zeros;
  v.mask = mask;
  return v;
}

absl::Status ValidateQuantizedLinear(const QuantizedLinearView& q) {
  absl::StatusOr<PackedLayout> want = ComputePackedLayout(q.format, q.layout.rows, q.layout.cols);
  if (!want.ok()) return want.status();
  const PackedLayout& l = *want;
  if (l.num_groups != q.layout.num_groups || l.qweight_row_bytes != q.layout.qweight_row_bytes ||
      l.mask_row_bytes != q.layout.mask_row_bytes || l.stored_cols != q.layout.stored_cols ||
      l.has_zeros != q.layout.has_zeros || l.has_mask != q.layout.has_mask) {
    return absl::InvalidArgumentError(absl::StrCat("packed layout does not match format ",
                                                   q.format.ToString(), " for [", l.rows, ", ",
                                                   l.cols, "]"));
  }
  if (static_cast<int64_t>(q.qweight.size()) != l.qweight_bytes()) {
    return SizeMismatch("qweight", q.qweight.size(), l.qweight_bytes());
  }
  if (static_cast<int64_t>(q.scales.size()) != l.scale_count()) {
    return SizeMismatch("scales", q.scales.size(), l.scale_count());
  }
  if (static_cast<int64_t>(q.zeros.size()) != (l.has_zeros ? l.scale_count() : 0)) {
    return SizeMismatch("zeros", q.zeros.size(), l.has_zeros ? l.scale_count() : 0);
  }
  if (static_cast<int64_t>(q.mask.size()) != l.mask_bytes()) {
    return SizeMismatch("mask", q.mask.size(), l.mask_bytes());
  }
  for (int64_t r = 0; r < l.rows; ++r) {
    for (int64_t g = 0; g < l.num_groups; ++g) {
      const size_t i = static_cast<size_t>(r * l.num_groups + g);
      const float s = HalfToFloat(q.scales[i]);
      if (!std::isfinite(s) || !(s > 0.0f)) {
        return absl::InvalidArgumentError(
            absl::StrCat("scales[", r, ", ", g, "] is ", s, ", expected a positive finite value"));
      }
      if (l.has_zeros && !std::isfinite(HalfToFloat(q.zeros[i]))) {
        return absl::InvalidArgumentError(absl::StrCat("zeros[", r, ", ", g, "] is not finite"));
      }
      if (l.has_zeros && q.format.zero_point == ZeroPoint::kInteger) {
        const float z = HalfToFloat(q.zeros[i]);
        if (z != std::nearbyint(z) || z < 0.0f || z > static_cast<float>(MaxCode(q.format.bits))) {
          return absl::InvalidArgumentError(
              absl::StrCat("zeros[", r, ", ", g, "] is ", z, ", expected an integer in 0 .. ",
                           MaxCode(q.format.bits), " (zero point integer)"));
        }
      }
    }
    if (!PaddingIsZero(q.qweight_row(r), l.stored_cols, q.format.bits)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "qweight row ", r, " has non-zero padding bits after its ", l.stored_cols, " codes"));
    }
    if (l.has_mask) {
      const int64_t blocks = l.cols / 4;
      for (int64_t k = 0; k < blocks; ++k) {
        const uint8_t m = q.block_mask(r, k);
        if (!IsValid24Mask(m)) {
          return absl::InvalidArgumentError(
              absl::StrCat("mask[", r, "] block ", k, " (columns ", 4 * k, "..", 4 * k + 3,
                           ") is 0x", absl::Hex(m), ", expected exactly two of four bits set"));
        }
      }
      if (blocks % 2 == 1 && (q.mask_row(r).back() >> 4) != 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("mask row ", r, " has a non-zero padding nibble"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<QuantizedLinear> PackLinear(const UnpackedLinear& u) {
  absl::StatusOr<PackedLayout> layout = ComputePackedLayout(u.format, u.rows, u.cols);
  if (!layout.ok()) return layout.status();
  const PackedLayout& l = *layout;
  const size_t n = static_cast<size_t>(u.rows * u.cols);
  if (u.codes.size() != n) return SizeMismatch("codes", u.codes.size(), u.rows * u.cols);
  if (u.scales.size() != static_cast<size_t>(l.scale_count())) {
    return SizeMismatch("scales", u.scales.size(), l.scale_count());
  }
  if (u.zeros.size() != static_cast<size_t>(l.has_zeros ? l.scale_count() : 0)) {
    return SizeMismatch("zeros", u.zeros.size(), l.has_zeros ? l.scale_count() : 0);
  }
  if (l.has_mask) {
    if (u.keep.size() != n) return SizeMismatch("keep", u.keep.size(), u.rows * u.cols);
    if (!Is24Pattern(u.keep, u.rows, u.cols)) {
      return absl::InvalidArgumentError("keep mask is not 2:4 (two kept in every 4 columns)");
    }
  } else if (!u.keep.empty()) {
    return absl::InvalidArgumentError("a dense layer has no keep mask");
  }
  QuantizedLinear q;
  q.format = u.format;
  q.layout = l;
  q.qweight.assign(static_cast<size_t>(l.qweight_bytes()), 0);
  q.mask.assign(static_cast<size_t>(l.mask_bytes()), 0);
  const int bits = u.format.bits;
  const int max_code = MaxCode(bits);
  for (int64_t r = 0; r < u.rows; ++r) {
    std::span<uint8_t> row(q.qweight.data() + r * l.qweight_row_bytes,
                           static_cast<size_t>(l.qweight_row_bytes));
    int64_t j = 0;  // stored index
    for (int64_t c = 0; c < u.cols; ++c) {
      const size_t i = static_cast<size_t>(r * u.cols + c);
      if (l.has_mask) {
        if (!u.keep[i]) continue;
        q.mask[static_cast<size_t>(r * l.mask_row_bytes + c / 8)] |=
            static_cast<uint8_t>(1u << (c % 8));  // bit c%4 of nibble (c/4)%2 == bit c%8
      }
      if (u.codes[i] > max_code) {
        return absl::InvalidArgumentError(
            absl::StrCat("code ", u.codes[i], " at [", r, ", ", c, "] exceeds ", bits, " bits"));
      }
      OrPackedCode(row, j++, bits, u.codes[i]);
    }
  }
  q.scales.resize(u.scales.size());
  for (size_t i = 0; i < u.scales.size(); ++i) q.scales[i] = FloatToHalf(u.scales[i]);
  q.zeros.resize(u.zeros.size());
  for (size_t i = 0; i < u.zeros.size(); ++i) q.zeros[i] = FloatToHalf(u.zeros[i]);
  if (absl::Status s = ValidateQuantizedLinear(q.view()); !s.ok()) return s;
  return q;
}

void UnpackLinearRow(const QuantizedLinearView& q, int64_t r, std::span<uint8_t> codes,
                     std::span<uint8_t> keep) {
  const PackedLayout& l = q.layout;
  const std::span<const uint8_t> row = q.qweight_row(r);
  if (!l.has_mask) {
    UnpackCodes(row, q.format.bits, codes.first(static_cast<size_t>(l.cols)));
    return;
  }
  std::fill(codes.begin(), codes.begin() + l.cols, uint8_t{0});
  std::fill(keep.begin(), keep.begin() + l.cols, uint8_t{0});
  // The row's stored (kept) codes in order, one byte each, then spread over the columns the
  // mask keeps. Locals: a byte store may alias any field of q, which would then be reloaded.
  thread_local std::vector<uint8_t> stored;
  stored.resize(row.size() * 8 / static_cast<size_t>(q.format.bits));
  UnpackCodes(row, q.format.bits, stored);
  const std::span<const uint8_t> masks = q.mask_row(r);
  const int64_t cols = l.cols, count = static_cast<int64_t>(stored.size());
  int64_t j = 0;
  for (int64_t block = 0; 4 * block < cols; ++block) {
    // Over the kept columns only (bits of the mask, lowest first): a test per column would
    // mispredict on every other one.
    for (unsigned mask = BlockMaskOf(masks, block); mask != 0; mask &= mask - 1) {
      const int64_t c = 4 * block + __builtin_ctz(mask);
      if (c >= cols || j == count) break;  // (a valid row stores every kept code)
      keep[c] = 1;
      codes[c] = stored[j++];
    }
  }
}

UnpackedLinear UnpackLinear(const QuantizedLinearView& q) {
  const PackedLayout& l = q.layout;
  UnpackedLinear u;
  u.format = q.format;
  u.rows = l.rows;
  u.cols = l.cols;
  u.codes.assign(static_cast<size_t>(l.rows * l.cols), 0);
  if (l.has_mask) u.keep.assign(u.codes.size(), 0);
  for (int64_t r = 0; r < l.rows; ++r) {
    const size_t at = static_cast<size_t>(r * l.cols), n = static_cast<size_t>(l.cols);
    UnpackLinearRow(q, r, std::span(u.codes).subspan(at, n),
                    l.has_mask ? std::span(u.keep).subspan(at, n) : std::span<uint8_t>());
  }
  u.scales.resize(q.scales.size());
  for (size_t i = 0; i < q.scales.size(); ++i) u.scales[i] = HalfToFloat(q.scales[i]);
  u.zeros.resize(q.zeros.size());
  for (size_t i = 0; i < q.zeros.size(); ++i) u.zeros[i] = HalfToFloat(q.zeros[i]);
  return u;
}

std::vector<float> DequantizeLinear(const QuantizedLinearView& q) {
  const UnpackedLinear u = UnpackLinear(q);
  std::vector<float> w(u.codes.size(), 0.0f);
  for (int64_t r = 0; r < u.rows; ++r) {
    for (int64_t c = 0; c < u.cols; ++c) {
      const size_t i = static_cast<size_t>(r * u.cols + c);
      if (!u.keep.empty() && !u.keep[i]) continue;
      w[i] =
          DecodeCode(u.codes[i], q.params(r, c / q.format.group), q.format.scheme, q.format.bits);
    }
  }
  return w;
}

}  // namespace accllm
