// KV cache quantization: each token's key or value vector of one KV head ([head_dim]) is
// quantized asymmetrically to 4 or 8 bits with its own fp16 scale and zero:
//   scale = (max - min) / (2^bits - 1), zero = -min / scale (both fp16), c_i = clamp(round(x_i /
//   scale + zero)), x_i ~= scale * (c_i - zero).
// Codes are packed as in bit_pack.h (4 bits: head_dim / 2 bytes, low nibble = even channel).
// Keys are first rotated by the normalized Hadamard transform (hadamard.h) so one outlier
// channel spreads over all channels; the query gets the same rotation, so q.k is unchanged.
// Sink tokens (the first `sink_tokens` positions) keep fp16 K/V: IntactKV's observation that
// they carry the outliers low-bit KV destroys.
#ifndef ACCLLM_QUANT_KV_QUANT_H_
#define ACCLLM_QUANT_KV_QUANT_H_

#include <cstdint>
#include <span>

#include "absl/status/status.h"  // absl::Status

namespace accllm {

struct KvFormat {
  int bits = 16;            // 4, 8, or 16 (fp16, unquantized)
  bool rotate_keys = true;  // Hadamard-rotate keys (and queries) before quantization
  int sink_tokens = 4;      // leading positions kept in fp16 whatever `bits` is

  bool operator==(const KvFormat&) const = default;
  // Whether the K/V of the token at `position` is stored quantized.
  bool QuantizedAt(int64_t position) const { return bits < 16 && position >= sink_tokens; }
};

absl::Status ValidateKvFormat(const KvFormat& format);

// Bytes of one quantized [head_dim] vector's codes.
inline int64_t KvCodeBytes(int64_t head_dim, int bits) { return (head_dim * bits + 7) / 8; }

// The fp16 parameters of one quantized [head_dim] vector (its codes live in the caller's KV page).
struct KvQuantParams {
  uint16_t scale = 0;  // fp16 bits
  uint16_t zero = 0;   // fp16 bits
};

// x [head_dim] -> codes [KvCodeBytes(head_dim, bits)]; returns the fp16 scale and zero.
// Rotation is the caller's: rotate keys with HadamardTransform first (see RotateKeyOrQuery).
KvQuantParams QuantizeKv(std::span<const float> x, int bits, std::span<uint8_t> codes);
// codes -> out [head_dim].
void DequantizeKv(std::span<const uint8_t> codes, KvQuantParams p, int bits, std::span<float> out);

// q . k_hat = scale * (sum_i q_i c_i - zero * sum_i q_i), q [head_dim] already rotated like
// the key.
float DotQuantizedKey(std::span<const float> q, std::span<const uint8_t> codes, KvQuantParams p,
                      int bits);
// out [head_dim] += weight * v_hat: the attention-weighted sum over quantized values.
void AccumulateQuantizedValue(float weight, std::span<const uint8_t> codes, KvQuantParams p,
                              int bits, std::span<float> out);

// The fixed key/query rotation (in place); a no-op when format.rotate_keys is false.
void RotateKeyOrQuery(const KvFormat& format, std::span<float> x);

}  // namespace accllm

#endif  // ACCLLM_QUANT_KV_QUANT_H_
