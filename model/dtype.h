// Element types of stored tensors, with the safetensors spelling of each.
#ifndef ACCLLM_MODEL_DTYPE_H_
#define ACCLLM_MODEL_DTYPE_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"  // absl::StatusOr

namespace accllm {

enum class DType { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU8, kBool };

// "F32", "BF16", ... as the safetensors header spells them.
std::string_view DTypeName(DType dtype);
absl::StatusOr<DType> ParseDType(std::string_view name);
size_t DTypeSize(DType dtype);
bool IsFloatDType(DType dtype);

// IEEE half and bfloat16 conversions; float→16-bit rounds to nearest even.
float HalfToFloat(uint16_t h);
uint16_t FloatToHalf(float f);
inline float BF16ToFloat(uint16_t b) {
  uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  __builtin_memcpy(&f, &bits, sizeof(f));
  return f;
}
uint16_t FloatToBF16(float f);

}  // namespace accllm

#endif  // ACCLLM_MODEL_DTYPE_H_
