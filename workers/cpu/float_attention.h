// Softmax attention over float K/V rows (the dense and paged float caches), with runtime SIMD
// dispatch: one KV head and the query heads that share it (GQA), each key and value row read
// once for all of them. Scalar per-key dot products were most of a long prefill's time.
#ifndef ACCLLM_WORKERS_CPU_FLOAT_ATTENTION_H_
#define ACCLLM_WORKERS_CPU_FLOAT_ATTENTION_H_

#include <cstdint>

namespace accllm {

// out[g · head_dim + d] = Σ_i softmax_i(scale · q_g · k_i) · v_i[d] for the `group` query
// heads q [group, head_dim], over n keys k_i = keys[i] + offset and values v_i = values[i] +
// offset ([head_dim] each). scores: scratch of at least group · n floats. The softmax is
// quant/portable_exp.h's (SoftmaxInPlace). Deterministic: the same inputs give the same bits
// whichever thread or call runs them.
void FloatAttendGroup(const float* q, int32_t group, int32_t head_dim, const float* const* keys,
                      const float* const* values, int64_t offset, int64_t n, float scale,
                      float* scores, float* out);

}  // namespace accllm

#endif  // ACCLLM_WORKERS_CPU_FLOAT_ATTENTION_H_
