// SwiGLU's elementwise half, gate ← silu(gate) · up = gate / (1 + e^−gate) · up, with
// runtime SIMD dispatch: quant/portable_exp.h's PortableSwiGlu lane by lane, the same bits on
// every target and on the FPGA card. A prefill chunk computes millions of them per layer; one
// std::exp call each was a visible share.
#ifndef ACCLLM_WORKERS_CPU_SWIGLU_H_
#define ACCLLM_WORKERS_CPU_SWIGLU_H_

#include <cstdint>

namespace accllm {

// gate [n] ← silu(gate) · up [n].
void SwiGluInPlace(float* gate, const float* up, int64_t n);

}  // namespace accllm

#endif  // ACCLLM_WORKERS_CPU_SWIGLU_H_
