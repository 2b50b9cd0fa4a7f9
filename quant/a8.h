// A8: activations quantized per token, symmetric int8, with the scale computed on the fly.
//   max_abs = max |x_i|;  scale = max_abs / 127;  q_i = round_half_even(x_i * (127 / max_abs))
// clamped to [-127, 127] (never -128, so negation and u8 x s8 products stay in range). An
// all-zero token has scale 0 and all q_i = 0. Faster kernels must reproduce exactly this
// arithmetic (a float multiply by the float reciprocal 127 / max_abs, then round-to-even), so
// the int8 values match bit for bit.
#ifndef ACCLLM_QUANT_A8_H_
#define ACCLLM_QUANT_A8_H_

#include <cstdint>
#include <span>
#include <vector>

namespace accllm {

struct A8Vector {
  std::vector<int8_t> values;  // [n]
  float scale = 0.0f;          // x_i ~= scale * values[i]
};

A8Vector QuantizeA8(std::span<const float> x);
// q [n] and its scale -> x [n].
void DequantizeA8(const A8Vector& q, std::span<float> out);

// Per group sums of the int8 values, [ceil(n / group)]: the zero-point correction of a dense
// uniform layer, sum_i s (c_i - z) x_i = s (sum_i c_i x_i - z sum_i x_i).
std::vector<int32_t> A8GroupSums(std::span<const int8_t> values, int group);

}  // namespace accllm

#endif  // ACCLLM_QUANT_A8_H_
