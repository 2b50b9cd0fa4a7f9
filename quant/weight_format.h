// The descriptor of one quantized linear layer's storage format (bits, scheme, group, sparsity)
// and the sizes of its packed tensors. This is the contract shared by quant/, workers/cpu and
// workers/fpga; the byte layout of each packed tensor is described here and in bit_pack.h.
//
// A weight matrix W is [rows = out features, cols = in features], row-major (nn.Linear).
// Quantization groups run along the input dimension: group g of a row covers the original
// columns [g * group, min((g + 1) * group, cols)), so the last group is ragged when
// cols % group != 0 (e.g. a 172-wide FFN with group 64 has groups of 64, 64 and 44).
//
// Packed tensors (all row-major, one row per output feature, rows never share a byte):
//   qweight [rows, QWeightRowBytes]  U8   codes of the stored weights, `bits` each, as a
//                                         little-endian bitstream per row (see bit_pack.h);
//                                         dense: every column; 2:4: the two kept weights of each
//                                         block of 4, in increasing column order.
//   scales  [rows, NumGroups]        F16  per group scale (> 0, finite).
//   zeros   [rows, NumGroups]        F16  uniform only: per group zero point (fractional, or an
//                                         integer in 0 .. 2^bits - 1 when zero_point is integer).
//   mask    [rows, MaskRowBytes]     U8   2:4 only: one 4-bit mask per block of 4 columns, block
//                                         k of a row in byte k / 2, low nibble for even k; bit i
//                                         set <=> column 4k + i is kept; exactly two bits set.
//                                         An odd block count leaves the last high nibble zero.
//
// Value of a stored code c in group g of row r:
//   uniform: w = scale[r, g] * (c - zero[r, g]),            c in 0 .. 2^bits - 1 (unsigned, so
//            the integer dot product maps onto u8 x s8 instructions);
//   pow2:    w = scale[r, g] * s * 2^k, where the top bit of c is the sign s (1 = negative) and
//            the low bits - 1 bits are the exponent k in 0 .. 2^(bits-1) - 1 (M^2-ViT's
//            power-of-two scheme: a multiply becomes a shift). Zero is not representable.
// A pruned weight (2:4, mask bit clear) is exactly zero.
#ifndef ACCLLM_QUANT_WEIGHT_FORMAT_H_
#define ACCLLM_QUANT_WEIGHT_FORMAT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"    // absl::Status
#include "absl/status/statusor.h"  // absl::StatusOr

namespace accllm {

enum class WeightScheme { kUniform, kPow2 };
enum class Sparsity { kDense, k2of4 };
// Uniform zero points: any fp16 value, or integers in 0 .. 2^bits - 1 (the GPTQ convention).
// Integer zeros let a kernel fold the zero into the codes (c - z fits s8), which the 2:4 CPU
// kernel needs to skip the per-row sum of the kept activations.
enum class ZeroPoint { kFractional, kInteger };

std::string_view WeightSchemeName(WeightScheme scheme);  // "uniform" | "pow2"
absl::StatusOr<WeightScheme> ParseWeightScheme(std::string_view name);
std::string_view SparsityName(Sparsity sparsity);  // "dense" | "2:4"
absl::StatusOr<Sparsity> ParseSparsity(std::string_view name);
std::string_view ZeroPointName(ZeroPoint zero_point);  // "fractional" | "integer"
absl::StatusOr<ZeroPoint> ParseZeroPoint(std::string_view name);

inline constexpr int kDefaultGroupSize = 64;
// Keeps the per-group int32 accumulation of u8 x s8 (or 2^7 x s8) products from overflowing.
inline constexpr int kMaxGroupSize = 1 << 16;

struct WeightFormat {
  int bits = 4;  // uniform: 2, 3, 4 or 8; pow2: 2, 3 or 4
  WeightScheme scheme = WeightScheme::kUniform;
  int group = kDefaultGroupSize;  // input columns per group; a multiple of 4 for 2:4
  Sparsity sparsity = Sparsity::kDense;
  ZeroPoint zero_point = ZeroPoint::kFractional;  // uniform only

  bool operator==(const WeightFormat&) const = default;
  std::string ToString() const;  // "w2 uniform g64 2:4", "w2 uniform g64 2:4 int-zero"
};

// Bits and group in range, the bits allowed for the scheme, group % 4 == 0 for 2:4, integer
// zero points only with the uniform scheme.
absl::Status ValidateWeightFormat(const WeightFormat& format);

// Largest stored code: 2^bits - 1.
inline int MaxCode(int bits) { return (1 << bits) - 1; }
// pow2: the largest exponent, 2^(bits-1) - 1 (the code's low bits).
inline int Pow2MaxExponent(int bits) { return (1 << (bits - 1)) - 1; }

// The sizes of the packed tensors of a [rows, cols] layer in `format`.
struct PackedLayout {
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t num_groups = 0;         // ceil(cols / group)
  int64_t stored_cols = 0;        // values stored per row: cols (dense) or cols / 2 (2:4)
  int64_t qweight_row_bytes = 0;  // ceil(stored_cols * bits / 8)
  int64_t mask_row_bytes = 0;     // 2:4: ceil(cols / 8); dense: 0
  bool has_zeros = false;         // uniform scheme
  bool has_mask = false;          // 2:4

  int64_t qweight_bytes() const { return rows * qweight_row_bytes; }
  int64_t scale_count() const { return rows * num_groups; }
  int64_t mask_bytes() const { return rows * mask_row_bytes; }
  // Every stored bit: codes (with row padding) + fp16 scales + fp16 zeros + masks.
  int64_t total_bits() const;
  // total_bits() / (rows * cols): what a weight really costs (W2 g64 dense: 2.5).
  double bits_per_weight() const;
};

// Validates the format and the shape: rows, cols > 0; 2:4 needs cols % 4 == 0.
absl::StatusOr<PackedLayout> ComputePackedLayout(const WeightFormat& format, int64_t rows,
                                                 int64_t cols);

}  // namespace accllm

#endif  // ACCLLM_QUANT_WEIGHT_FORMAT_H_
