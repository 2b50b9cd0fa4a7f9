// The two halves of attention over 4-bit KV (quant/kv_quant.h) for the query
// heads that share one KV head (a GQA group), with runtime SIMD dispatch: each
// key/value's nibbles are widened to float once and reused by every head of the
// group. Channels are handled in the codes' own order (even channels = low
// nibbles, odd = high), so nothing is shuffled per key. Equal to the scalar
// DotQuantizedKey / AccumulateQuantizedValue within float rounding (sums are
// reordered).
#ifndef ACCLLM_WORKERS_CPU_KV4_ATTENTION_H_
#define ACCLLM_WORKERS_CPU_KV4_ATTENTION_H_

#include <cstdint>
#include <span>

#include "quant/kv_quant.h"  // KvQuantParams

namespace accllm {

// One stored 4-bit vector of one KV head: its [head_dim / 2] code bytes and parameters.
struct Kv4Ref {
  const uint8_t* codes = nullptr;
  KvQuantParams params;
};

// scores[h · stride + i] = scale · (q_h · k̂_i) for the nq query heads q [nq, head_dim] (in the
// keys' rotated frame) and the keys `keys`. head_dim must be even.
void Kv4Scores(const float* q, int nq, int head_dim, std::span<const Kv4Ref> keys, float scale,
               float* scores, int64_t stride);

// out[h · head_dim + d] += Σ_i w[h · stride + i] · v̂_i[d] for the nq heads.
void Kv4AccumulateValues(const float* w, int64_t stride, int nq, int head_dim,
                         std::span<const Kv4Ref> values, float* out);

// w [n] scores → softmax weights in place: quant/portable_exp.h's PortableSoftmaxInPlace,
// bit for bit on every target.
void SoftmaxInPlace(float* w, int64_t n);

}  // namespace accllm

#endif  // ACCLLM_WORKERS_CPU_KV4_ATTENTION_H_
