// Scalar reference kernels for y = W x with a quantized W: the correctness oracle every SIMD or
// FPGA kernel is compared with. One token at a time; W [rows, cols] as in weight_format.h.
//
// A8 path (integer): for each row r and group g,
//   acc = sum over stored weights i of g: CodeToInt(c_i) * x_i          (int32, exact)
//   uniform: xsum = sum of x_i over the same weights (dense: A8GroupSums, shared by all
//            rows; 2:4: only the kept columns, so a kernel gathers it per row alongside the
//            products)
//            y_r += scale[r,g] * (acc - zero[r,g] * xsum)
//   pow2:    y_r += scale[r,g] * acc
// then y_r *= x.scale. Group terms are added in float, in group order.
// A16 path: the same with float x_i (and float acc).
#ifndef ACCLLM_QUANT_REFERENCE_MATVEC_H_
#define ACCLLM_QUANT_REFERENCE_MATVEC_H_

#include <span>

#include "absl/status/status.h"      // absl::Status
#include "quant/a8.h"                // A8Vector
#include "quant/quantized_linear.h"  // QuantizedLinearView

namespace accllm {

// x.values [cols] -> y [rows]. Errors on mismatched sizes.
absl::Status MatVecA8(const QuantizedLinearView& w, const A8Vector& x, std::span<float> y);
// x [cols] -> y [rows].
absl::Status MatVecA16(const QuantizedLinearView& w, std::span<const float> x, std::span<float> y);

}  // namespace accllm

#endif  // ACCLLM_QUANT_REFERENCE_MATVEC_H_
