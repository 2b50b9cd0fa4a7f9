// One quantized linear layer: its format and packed tensors (layout in weight_format.h), a
// non-owning view the kernels read, and the unpacked form (one code per weight) the solvers
// produce.
#ifndef ACCLLM_QUANT_QUANTIZED_LINEAR_H_
#define ACCLLM_QUANT_QUANTIZED_LINEAR_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"     // absl::Status
#include "absl/status/statusor.h"   // absl::StatusOr
#include "quant/group_quantizer.h"  // GroupParams
#include "quant/weight_format.h"    // WeightFormat, PackedLayout

namespace accllm {

// The mask of block k (columns 4k .. 4k+3) in one row's mask bytes: nibble k % 2 of byte k / 2.
inline uint8_t BlockMaskOf(std::span<const uint8_t> mask_row, int64_t k) {
  return (mask_row[static_cast<size_t>(k / 2)] >> (4 * (k % 2))) & 0xF;
}

// What the kernels read; the memory belongs to someone else (a QuantizedLinear, a device
// buffer...). fp16 values are their raw IEEE bits.
struct QuantizedLinearView {
  WeightFormat format;
  PackedLayout layout;
  std::span<const uint8_t> qweight;  // [rows, qweight_row_bytes]
  std::span<const uint16_t> scales;  // [rows, num_groups]
  std::span<const uint16_t> zeros;   // [rows, num_groups]; empty unless uniform
  std::span<const uint8_t> mask;     // [rows, mask_row_bytes]; empty unless 2:4

  std::span<const uint8_t> qweight_row(int64_t r) const {
    return qweight.subspan(static_cast<size_t>(r * layout.qweight_row_bytes),
                           static_cast<size_t>(layout.qweight_row_bytes));
  }
  std::span<const uint8_t> mask_row(int64_t r) const {
    return mask.subspan(static_cast<size_t>(r * layout.mask_row_bytes),
                        static_cast<size_t>(layout.mask_row_bytes));
  }
  // The mask of block k (columns 4k .. 4k+3) of row r.
  uint8_t block_mask(int64_t r, int64_t k) const { return BlockMaskOf(mask_row(r), k); }
  GroupParams params(int64_t r, int64_t g) const;  // decoded fp16 scale (and zero)
};

// The owning form, as read from or written to a model directory.
struct QuantizedLinear {
  WeightFormat format;
  PackedLayout layout;
  std::vector<uint8_t> qweight;  // [rows, qweight_row_bytes]
  std::vector<uint16_t> scales;  // [rows, num_groups] fp16 bits
  std::vector<uint16_t> zeros;   // [rows, num_groups] fp16 bits; empty unless uniform
  std::vector<uint8_t> mask;     // [rows, mask_row_bytes]; empty unless 2:4

  QuantizedLinearView view() const;
  double bits_per_weight() const { return layout.bits_per_weight(); }
};

// Everything consistent: layout matches the format and shape, every tensor has its size (and
// absent ones are empty), scales positive and finite, zeros finite, every mask nibble keeps
// exactly two, row padding bits zero. Errors say which tensor and where.
absl::Status ValidateQuantizedLinear(const QuantizedLinearView& q);

// One code per original weight: what solvers produce and tests inspect.
struct UnpackedLinear {
  WeightFormat format;
  int64_t rows = 0;
  int64_t cols = 0;
  std::vector<uint8_t> codes;  // [rows, cols]; a pruned weight's code is ignored
  std::vector<uint8_t> keep;   // [rows, cols], 1 = kept; empty for dense
  std::vector<float> scales;   // [rows, num_groups], fp16-representable values
  std::vector<float> zeros;    // [rows, num_groups]; uniform only (empty for pow2)
};

// Packs codes, masks and fp16 parameters; rejects a keep pattern that is not 2:4 and codes out
// of range.
absl::StatusOr<QuantizedLinear> PackLinear(const UnpackedLinear& u);
UnpackedLinear UnpackLinear(const QuantizedLinearView& q);
// Row r of UnpackLinear's codes and keep flags, without the whole matrix: `codes` holds cols
// entries (a pruned weight's 0), `keep` cols for 2:4 (1 = kept) and is ignored for dense.
void UnpackLinearRow(const QuantizedLinearView& q, int64_t r, std::span<uint8_t> codes,
                     std::span<uint8_t> keep);

// The dense float matrix the packed layer stands for: [rows, cols], pruned weights 0.
std::vector<float> DequantizeLinear(const QuantizedLinearView& q);

}  // namespace accllm

#endif  // ACCLLM_QUANT_QUANTIZED_LINEAR_H_
