// The KV cache's number formats on the card, bit-exact restatements of the CPU's scalar code
// (plain C++; fp16 conversions are model/half_bits.h's, through fp16.h):
//   QuantizeKvVector       = quant/kv_quant.h's QuantizeKv (asymmetric, fractional fp16 zero,
//                            group_quantizer.cc's UniformParams / QuantizeToCode);
//   DequantizeKvVector     = DequantizeKv: scale * (code - zero);
// codes packed as quant/bit_pack.h (4 bits: low nibble = even channel).
#ifndef ACCLLM_WORKERS_FPGA_KERNELS_KV_CODEC_H_
#define ACCLLM_WORKERS_FPGA_KERNELS_KV_CODEC_H_

#include <cstdint>

#include "quant/hadamard.h"  // HadamardTransformInPlace

namespace accllm::fpga {

// Bytes of one [n] vector's codes at `bits` (4 or 8).
inline int64_t KvCodeBytes(int64_t n, int32_t bits) { return (n * bits + 7) / 8; }

// Code j of a packed row (bits 4 or 8).
inline uint32_t KvCodeAt(const uint8_t* codes, int64_t j, int32_t bits) {
  if (bits == 8) return codes[j];
  const uint8_t b = codes[j / 2];
  return (j & 1) ? (b >> 4) : (b & 0x0F);
}

// Keys are rotated with quant/hadamard.h's HadamardTransformInPlace (header-only, plain C++).
using ::accllm::HadamardTransformInPlace;

// x [n] -> codes [KvCodeBytes(n, bits)] and the fp16 bits of the scale and zero.
void QuantizeKvVector(const float* x, int64_t n, int32_t bits, uint8_t* codes, uint16_t* scale,
                      uint16_t* zero);

// codes -> out [n] = scale * (code - zero).
void DequantizeKvVector(const uint8_t* codes, uint16_t scale, uint16_t zero, int32_t bits,
                        int64_t n, float* out);

}  // namespace accllm::fpga

#endif  // ACCLLM_WORKERS_FPGA_KERNELS_KV_CODEC_H_
