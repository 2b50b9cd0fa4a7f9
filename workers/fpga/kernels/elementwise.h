// The decoder's elementwise stages, bit-exact with the CPU engine's scalar arithmetic (the
// project compiles with -ffp-contract=off, so no multiply-add is fused on either side):
//   RmsNormRow  = workers/engine/llama_model.cc's RmsNorm:
//                 ss = Σ x_i² in order; s = 1 / sqrt(ss / n + eps); out_i = w_i · (s · x_i);
//   RopeApply   = model/rope.cc's Rope::ApplyAll given its float cos/sin row
//                 (pair j = (v[j], v[j + hd/2]); a·c − b·s, a·s + b·c);
//   SwiGluRow   = workers/cpu/swiglu.cc: gate_i ← gate_i / (1 + e^−gate_i) · up_i, both
//                 quant/portable_exp.h's PortableSwiGlu (one exp for every target).
#ifndef ACCLLM_WORKERS_FPGA_KERNELS_ELEMENTWISE_H_
#define ACCLLM_WORKERS_FPGA_KERNELS_ELEMENTWISE_H_

#include <cstdint>

namespace accllm::fpga {

// out [n] = RMSNorm(x [n]) · weight [n] (out may not alias x).
void RmsNormRow(const float* x, const float* weight, int32_t n, float eps, float* out);

// A RoPE row of head_dim floats: cos [head_dim / 2], then sin [head_dim / 2], computed by the
// host with model/rope.h's Rope::Row.
// heads [n_heads * head_dim] rotated in place.
void RopeApply(float* heads, int32_t n_heads, int32_t head_dim, const float* row);

// gate [n] ← silu(gate) · up [n].
void SwiGluRow(float* gate, const float* up, int64_t n);

}  // namespace accllm::fpga

#endif  // ACCLLM_WORKERS_FPGA_KERNELS_ELEMENTWISE_H_
