// Int8 per-row symmetric storage of the embedding and the LM head ("<name>.qweight" I8
// [rows, cols] + "<name>.scales" F16 [rows]): w[r, c] ~= scale[r] * q[r, c], scale[r] =
// max|row| / 127 (rounded to fp16), q = round_half_even(w / scale) clamped to [-127, 127].
#ifndef ACCLLM_QUANT_INT8_ROWS_H_
#define ACCLLM_QUANT_INT8_ROWS_H_

#include <cstdint>
#include <span>
#include <vector>

namespace accllm {

struct Int8Rows {
  std::vector<int8_t> values;    // [rows, cols]
  std::vector<uint16_t> scales;  // [rows] fp16 bits
};

// An all-zero row gets scale 1 (fp16) and zero codes.
Int8Rows QuantizeInt8Rows(std::span<const float> w, int64_t rows, int64_t cols);
std::vector<float> DequantizeInt8Rows(const Int8Rows& q, int64_t rows, int64_t cols);

}  // namespace accllm

#endif  // ACCLLM_QUANT_INT8_ROWS_H_
