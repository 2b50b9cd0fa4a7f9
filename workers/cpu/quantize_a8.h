// A8 quantization of one token's activations (quant/a8.h) with runtime SIMD
// dispatch: the same arithmetic as QuantizeA8 — scale = max|x| / 127, q =
// round-half-even(x · (127 / max|x|)) clamped to ±127 — so the int8 values match
// it bit for bit. Every linear of a decode step quantizes its input: the scalar
// form's per-element nearbyint call cost more than a millisecond per token.
#ifndef ACCLLM_WORKERS_CPU_QUANTIZE_A8_H_
#define ACCLLM_WORKERS_CPU_QUANTIZE_A8_H_

#include <cstdint>

namespace accllm {

// x [n] → out [n]; returns the scale (0 for an all-zero x, whose values are all 0).
float QuantizeA8Row(const float* x, int64_t n, int8_t* out);

}  // namespace accllm

#endif  // ACCLLM_WORKERS_CPU_QUANTIZE_A8_H_
