#include "model/tensor.h"

#include <cstring>

#include "absl/strings/str_cat.h"   // absl::StrCat
#include "absl/strings/str_join.h"  // absl::StrJoin

namespace accllm {

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string TensorView::ShapeString() const {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

absl::Status ConvertToFloat32(const TensorView& tensor, std::span<float> out) {
  const int64_t n = tensor.numel();
  if (static_cast<int64_t>(out.size()) != n) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", tensor.name, ": expected ", n,
                                                   " elements, destination holds ", out.size()));
  }
  if (tensor.data.size() != static_cast<size_t>(n) * DTypeSize(tensor.dtype)) {
    return absl::DataLossError(absl::StrCat("tensor ", tensor.name, ": ", tensor.data.size(),
                                            " bytes do not match shape ", tensor.ShapeString()));
  }
  const std::byte* p = tensor.data.data();
  switch (tensor.dtype) {
    case DType::kF32:
      std::memcpy(out.data(), p, n * sizeof(float));
      return absl::OkStatus();
    case DType::kF64:
      for (int64_t i = 0; i < n; ++i) {
        double d;
        std::memcpy(&d, p + i * 8, 8);
        out[i] = static_cast<float>(d);
      }
      return absl::OkStatus();
    case DType::kF16:
    case DType::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, p + i * 2, 2);
        out[i] = tensor.dtype == DType::kF16 ? HalfToFloat(h) : BF16ToFloat(h);
      }
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError(absl::StrCat("tensor ", tensor.name, " has dtype ",
                                                     std::string(DTypeName(tensor.dtype)),
                                                     ", expected a floating-point type"));
  }
}

std::vector<float> ToFloat32Vector(const TensorView& tensor) {
  std::vector<float> out(tensor.numel());
  if (!ConvertToFloat32(tensor, out).ok()) return {};
  return out;
}

void EncodeFloat32(std::span<const float> values, DType dtype, std::span<std::byte> out) {
  switch (dtype) {
    case DType::kF16:
    case DType::kBF16:
      for (size_t i = 0; i < values.size(); ++i) {
        const uint16_t h = dtype == DType::kF16 ? FloatToHalf(values[i]) : FloatToBF16(values[i]);
        std::memcpy(out.data() + 2 * i, &h, 2);
      }
      return;
    default:  // F32: callers only ask for float dtypes
      std::memcpy(out.data(), values.data(), values.size() * sizeof(float));
  }
}

std::vector<std::byte> EncodeFloat32(std::span<const float> values, DType dtype) {
  const size_t width = dtype == DType::kF16 || dtype == DType::kBF16 ? 2 : 4;
  std::vector<std::byte> out(values.size() * width);
  EncodeFloat32(values, width == 2 ? dtype : DType::kF32, out);
  return out;
}

}  // namespace accllm
