#include "workers/engine/weight_matrix.h"

#include <cstring>

#include "absl/status/status.h"    // absl::InvalidArgumentError
#include "absl/strings/str_cat.h"  // absl::StrCat

namespace accllm {

absl::StatusOr<WeightMatrix> WeightMatrix::FromTensor(const TensorView& tensor) {
  if (tensor.shape.size() != 2) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", tensor.name, " has shape ",
                                                   tensor.ShapeString(), ", expected 2-D"));
  }
  if (tensor.dtype != DType::kF32 && tensor.dtype != DType::kF16 &&
      tensor.dtype != DType::kBF16) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", tensor.name, " has dtype ",
                                                   std::string(DTypeName(tensor.dtype)),
                                                   ", expected F32, F16 or BF16"));
  }
  WeightMatrix m;
  m.dtype_ = tensor.dtype;
  m.rows_ = tensor.shape[0];
  m.cols_ = tensor.shape[1];
  const size_t align = DTypeSize(tensor.dtype);
  if (reinterpret_cast<uintptr_t>(tensor.data.data()) % align != 0) {
    auto copy = std::make_shared<std::vector<std::byte>>(tensor.data.begin(), tensor.data.end());
    m.data_ = copy->data();
    m.owned_ = std::move(copy);
  } else {
    m.data_ = tensor.data.data();
  }
  return m;
}

namespace {
template <typename Load>
void MatVecImpl(int64_t rows, int64_t cols, Load load, const float* x, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    float sum = 0.0f;
    for (int64_t c = 0; c < cols; ++c) sum += load(r * cols + c) * x[c];
    y[r] = sum;
  }
}
}  // namespace

void WeightMatrix::MatVec(std::span<const float> x, std::span<float> y) const {
  switch (dtype_) {
    case DType::kF16: {
      const auto* w = reinterpret_cast<const uint16_t*>(data_);
      MatVecImpl(rows_, cols_, [w](int64_t i) { return HalfToFloat(w[i]); }, x.data(), y.data());
      return;
    }
    case DType::kBF16: {
      const auto* w = reinterpret_cast<const uint16_t*>(data_);
      MatVecImpl(rows_, cols_, [w](int64_t i) { return BF16ToFloat(w[i]); }, x.data(), y.data());
      return;
    }
    default: {
      const auto* w = reinterpret_cast<const float*>(data_);
      MatVecImpl(rows_, cols_, [w](int64_t i) { return w[i]; }, x.data(), y.data());
    }
  }
}

void WeightMatrix::Row(int64_t r, std::span<float> out) const {
  const int64_t base = r * cols_;
  for (int64_t c = 0; c < cols_; ++c) {
    switch (dtype_) {
      case DType::kF16:
        out[c] = HalfToFloat(reinterpret_cast<const uint16_t*>(data_)[base + c]);
        break;
      case DType::kBF16:
        out[c] = BF16ToFloat(reinterpret_cast<const uint16_t*>(data_)[base + c]);
        break;
      default:
        out[c] = reinterpret_cast<const float*>(data_)[base + c];
    }
  }
}

}  // namespace accllm
