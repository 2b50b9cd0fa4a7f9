#include "workers/engine/weight_matrix.h"

#include <cstring>

#include "absl/status/status.h"    // absl::InvalidArgumentError
#include "absl/strings/str_cat.h"  // absl::StrCat

namespace accllm {

absl::StatusOr<WeightMatrix> WeightMatrix::FromTensor(const TensorView& tensor,
                                                      std::shared_ptr<SharedThreadPool> pool) {
  if (tensor.shape.size() != 2) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", tensor.name, " has shape ",
                                                   tensor.ShapeString(), ", expected 2-D"));
  }
  if (tensor.dtype != DType::kF32 && tensor.dtype != DType::kF16 && tensor.dtype != DType::kBF16) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", tensor.name, " has dtype ",
                                                   std::string(DTypeName(tensor.dtype)),
                                                   ", expected F32, F16 or BF16"));
  }
  WeightMatrix m;
  m.dtype_ = tensor.dtype;
  m.rows_ = tensor.shape[0];
  m.cols_ = tensor.shape[1];
  m.pool_ = std::move(pool);
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

FloatGemmJob WeightMatrix::Job(float* y) const {
  const FloatWeightType type = dtype_ == DType::kF16    ? FloatWeightType::kF16
                               : dtype_ == DType::kBF16 ? FloatWeightType::kBF16
                                                        : FloatWeightType::kF32;
  return {.type = type, .w = data_, .rows = rows_, .y = y};
}

void WeightMatrix::MatVec(std::span<const float> x, std::span<float> y) const {
  ApplyBatch(x.data(), 1, y.data());
}

void WeightMatrix::ApplyBatch(const float* x, int64_t n, float* y) const {
  const FloatGemmJob job = Job(y);
  if (rows_ * cols_ * n < kMinParallelMacs) {
    FloatGemm({&job, 1}, x, n, cols_, nullptr);
    return;
  }
  RunOnPool(pool_.get(), [&](ThreadPool* pool) { FloatGemm({&job, 1}, x, n, cols_, pool); });
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
