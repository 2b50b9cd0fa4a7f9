#include "model/dtype.h"

#include "model/half_bits.h"  // HalfBitsToFloat, FloatToHalfBits

#include <cmath>
#include <cstring>

#include "absl/status/status.h"    // absl::InvalidArgumentError
#include "absl/strings/str_cat.h"  // absl::StrCat

namespace accllm {

namespace {
struct DTypeInfo {
  DType dtype;
  std::string_view name;
  size_t size;
};
constexpr DTypeInfo kInfo[] = {
    {DType::kF64, "F64", 8}, {DType::kF32, "F32", 4},  {DType::kF16, "F16", 2},
    {DType::kBF16, "BF16", 2}, {DType::kI64, "I64", 8}, {DType::kI32, "I32", 4},
    {DType::kI16, "I16", 2}, {DType::kI8, "I8", 1},     {DType::kU8, "U8", 1},
    {DType::kBool, "BOOL", 1},
};
const DTypeInfo& Info(DType dtype) {
  for (const DTypeInfo& info : kInfo) {
    if (info.dtype == dtype) return info;
  }
  return kInfo[1];  // unreachable: every enumerator is listed
}
}  // namespace

std::string_view DTypeName(DType dtype) { return Info(dtype).name; }
size_t DTypeSize(DType dtype) { return Info(dtype).size; }
bool IsFloatDType(DType dtype) {
  return dtype == DType::kF64 || dtype == DType::kF32 || dtype == DType::kF16 ||
         dtype == DType::kBF16;
}

absl::StatusOr<DType> ParseDType(std::string_view name) {
  for (const DTypeInfo& info : kInfo) {
    if (info.name == name) return info.dtype;
  }
  return absl::InvalidArgumentError(absl::StrCat("unsupported dtype \"", std::string(name), "\""));
}

float HalfToFloat(uint16_t h) { return HalfBitsToFloat(h); }

uint16_t FloatToHalf(float f) { return FloatToHalfBits(f); }

uint16_t FloatToBF16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  if ((bits & 0x7fffffff) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);
  const uint32_t rounding = 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

}  // namespace accllm
