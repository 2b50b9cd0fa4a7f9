// A8 activation quantization on the card: per token, symmetric int8 with the scale computed on
// the fly, bit-exact with quant/a8.h's QuantizeA8 (the float reciprocal 127 / max_abs, a
// multiply, round half to even, clamp to [-127, 127]; an all-zero token has scale 0).
#ifndef ACCLLM_WORKERS_FPGA_KERNELS_A8_QUANTIZE_H_
#define ACCLLM_WORKERS_FPGA_KERNELS_A8_QUANTIZE_H_

#include <cstdint>

namespace accllm::fpga {

// x [n] -> q [n], *scale.
void QuantizeA8Row(const float* x, int32_t n, int8_t* q, float* scale);

}  // namespace accllm::fpga

#endif  // ACCLLM_WORKERS_FPGA_KERNELS_A8_QUANTIZE_H_
