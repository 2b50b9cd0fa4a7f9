// A read-only view of one stored tensor (usually inside an mmap-ed file).
#ifndef ACCLLM_MODEL_TENSOR_H_
#define ACCLLM_MODEL_TENSOR_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"  // absl::Status
#include "model/dtype.h"         // DType

namespace accllm {

struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;      // row-major, outermost first
  std::span<const std::byte> data;  // exactly numel() * DTypeSize(dtype) bytes

  int64_t numel() const;
  std::string ShapeString() const;  // "[64, 172]"
};

// Converts a floating-point tensor (F32/F16/BF16/F64) to float32.
// `out` must hold numel() floats; any other dtype or size is an error naming the tensor.
absl::Status ConvertToFloat32(const TensorView& tensor, std::span<float> out);
std::vector<float> ToFloat32Vector(const TensorView& tensor);  // empty on a non-float dtype

// float32 values encoded as F32, F16 or BF16 bytes (round to nearest even).
void EncodeFloat32(std::span<const float> values, DType dtype, std::span<std::byte> out);
std::vector<std::byte> EncodeFloat32(std::span<const float> values, DType dtype);

}  // namespace accllm

#endif  // ACCLLM_MODEL_TENSOR_H_
