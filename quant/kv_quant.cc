#include "quant/kv_quant.h"

#include <algorithm>  // std::min, std::max

#include "absl/strings/str_cat.h"   // absl::StrCat
#include "model/dtype.h"            // FloatToHalf, HalfToFloat
#include "quant/bit_pack.h"         // GetPackedCode, OrPackedCode
#include "quant/group_quantizer.h"  // UniformParams, QuantizeToCode
#include "quant/hadamard.h"         // HadamardTransform

namespace accllm {

absl::Status ValidateKvFormat(const KvFormat& f) {
  if (f.bits != 4 && f.bits != 8 && f.bits != 16) {
    return absl::InvalidArgumentError(absl::StrCat("kv bits ", f.bits, " not in {4, 8, 16}"));
  }
  if (f.sink_tokens < 0) {
    return absl::InvalidArgumentError(absl::StrCat("sink_tokens ", f.sink_tokens, " < 0"));
  }
  return absl::OkStatus();
}

KvQuantParams QuantizeKv(std::span<const float> x, int bits, std::span<uint8_t> codes) {
  float lo = x.empty() ? 0.0f : x[0];
  float hi = lo;
  for (float v : x) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  const GroupParams p = UniformParams(lo, hi, bits);
  std::fill(codes.begin(), codes.end(), uint8_t{0});
  for (size_t i = 0; i < x.size(); ++i) {
    OrPackedCode(codes, static_cast<int64_t>(i), bits,
                 QuantizeToCode(x[i], p, WeightScheme::kUniform, bits));
  }
  return {FloatToHalf(p.scale), FloatToHalf(p.zero)};
}

void DequantizeKv(std::span<const uint8_t> codes, KvQuantParams p, int bits, std::span<float> out) {
  const float scale = HalfToFloat(p.scale);
  const float zero = HalfToFloat(p.zero);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] =
        scale * (static_cast<float>(GetPackedCode(codes, static_cast<int64_t>(i), bits)) - zero);
  }
}

float DotQuantizedKey(std::span<const float> q, std::span<const uint8_t> codes, KvQuantParams p,
                      int bits) {
  float dot = 0.0f;
  float qsum = 0.0f;
  for (size_t i = 0; i < q.size(); ++i) {
    dot += q[i] * static_cast<float>(GetPackedCode(codes, static_cast<int64_t>(i), bits));
    qsum += q[i];
  }
  return HalfToFloat(p.scale) * (dot - HalfToFloat(p.zero) * qsum);
}

void AccumulateQuantizedValue(float weight, std::span<const uint8_t> codes, KvQuantParams p,
                              int bits, std::span<float> out) {
  const float scale = weight * HalfToFloat(p.scale);
  const float zero = HalfToFloat(p.zero);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] +=
        scale * (static_cast<float>(GetPackedCode(codes, static_cast<int64_t>(i), bits)) - zero);
  }
}

void RotateKeyOrQuery(const KvFormat& format, std::span<float> x) {
  if (format.rotate_keys) HadamardTransform(x);
}

}  // namespace accllm
