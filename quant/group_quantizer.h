// One quantization group's parameters (scale, zero) and the mapping between weights and codes,
// shared by round-to-nearest, GPTQ and the kernels. Parameters are always held at their stored
// fp16 precision, so a code chosen here decodes to exactly what a reader of the file decodes.
#ifndef ACCLLM_QUANT_GROUP_QUANTIZER_H_
#define ACCLLM_QUANT_GROUP_QUANTIZER_H_

#include <cstdint>
#include <span>
#include <vector>

#include "quant/weight_format.h"  // WeightScheme

namespace accllm {

struct GroupParams {
  float scale = 1.0f;  // > 0, an fp16 value
  float zero = 0.0f;   // uniform only, an fp16 value (fractional unless ZeroPoint::kInteger)
};

// Rounds to fp16 and back (the precision scales and zeros are stored in).
float RoundToHalf(float v);

// Uniform: maps [lo, hi] onto codes 0 .. 2^bits - 1 (scale = (hi - lo) / maxq,
// zero = -lo / scale). A constant group (hi == lo) decodes exactly to that constant.
// kInteger: the range is widened to hold 0 and the zero rounded to an integer in
// 0 .. 2^bits - 1 (GPTQ's convention; a constant group still decodes exactly).
GroupParams UniformParams(float lo, float hi, int bits,
                          ZeroPoint zero_point = ZeroPoint::kFractional);
// Pow2: the largest magnitude `max_abs` maps to 2^Pow2MaxExponent(bits).
GroupParams Pow2Params(float max_abs, int bits);

// Nearest code (uniform: round half to even, clamped; pow2: nearest of +-2^k in linear
// distance, zero goes to +1).
uint8_t QuantizeToCode(float w, const GroupParams& p, WeightScheme scheme, int bits);
float DecodeCode(uint8_t code, const GroupParams& p, WeightScheme scheme, int bits);
// The integer the int8 kernels multiply with: uniform: the code itself (0 .. 2^bits - 1, the
// zero point is applied afterwards); pow2: +-2^k.
int32_t CodeToInt(uint8_t code, WeightScheme scheme, int bits);

// Clip ratios tried by the per-group search: the range [lo, hi] (pow2: max |w|) is scaled by
// each ratio and the one with the least (weighted) squared error wins. 1.0 = plain min/max.
std::vector<float> DefaultClipRatios();

// Parameters for one group's weights w. `keep` (empty = all) excludes pruned weights from the
// range and the error; `importance` (empty = all ones) weights each weight's squared error
// (e.g. the Hessian diagonal). `clip_ratios` empty or {1.0} means no search.
GroupParams ChooseGroupParams(std::span<const float> w, std::span<const uint8_t> keep,
                              std::span<const float> importance, WeightScheme scheme, int bits,
                              std::span<const float> clip_ratios,
                              ZeroPoint zero_point = ZeroPoint::kFractional);

}  // namespace accllm

#endif  // ACCLLM_QUANT_GROUP_QUANTIZER_H_
