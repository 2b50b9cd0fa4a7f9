// A [rows, cols] weight matrix as stored (F32, F16 or BF16), read in place.
#ifndef ACCLLM_WORKERS_ENGINE_WEIGHT_MATRIX_H_
#define ACCLLM_WORKERS_ENGINE_WEIGHT_MATRIX_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/statusor.h"               // absl::StatusOr
#include "model/dtype.h"                        // DTypeSize
#include "model/tensor.h"                       // TensorView
#include "workers/cpu/float_gemm.h"             // FloatGemmJob
#include "workers/engine/linear.h"              // Linear
#include "workers/engine/shared_thread_pool.h"  // SharedThreadPool

namespace accllm {

class WeightMatrix : public Linear {
 public:
  WeightMatrix() = default;
  // F32 data that is 4-byte aligned is used in place; F16/BF16 stay 16-bit and
  // are widened as they are read; misaligned data is copied once. Apply / ApplyBatch split
  // the rows over `pool` when it is free (null: the calling thread).
  static absl::StatusOr<WeightMatrix> FromTensor(const TensorView& tensor,
                                                 std::shared_ptr<SharedThreadPool> pool = nullptr);

  int64_t rows() const override { return rows_; }
  int64_t cols() const override { return cols_; }
  void Apply(std::span<const float> x, std::span<float> y) const override { MatVec(x, y); }
  // The SIMD kernel (workers/cpu/float_gemm.h): weights read once for all n tokens.
  void ApplyBatch(const float* x, int64_t n, float* y) const override;
  int64_t weight_bytes() const override {
    return rows_ * cols_ * static_cast<int64_t>(DTypeSize(dtype_));
  }

  // y[r] = sum_c W[r, c] * x[c]   (x: [cols], y: [rows]) in float, as llama2.c's reference,
  // summed lane-wise by the SIMD kernel (so not llama2.c's order: equal within rounding).
  void MatVec(std::span<const float> x, std::span<float> y) const;
  // This matrix as a kernel job writing y [n, rows] (ApplyBatchShared groups q/k/v).
  FloatGemmJob Job(float* y) const;
  SharedThreadPool* pool() const { return pool_.get(); }
  // Below this many multiply-adds a call stays on the calling thread: a tiny matrix
  // (stories260K's) takes less time than waking the other threads.
  static constexpr int64_t kMinParallelMacs = 32768;
  // Row r as float32 (the embedding lookup).
  void Row(int64_t r, std::span<float> out) const;

 private:
  DType dtype_ = DType::kF32;
  const std::byte* data_ = nullptr;
  int64_t rows_ = 0;
  int64_t cols_ = 0;
  std::shared_ptr<const std::vector<std::byte>> owned_;  // only for misaligned input
  std::shared_ptr<SharedThreadPool> pool_;
};

}  // namespace accllm

#endif  // ACCLLM_WORKERS_ENGINE_WEIGHT_MATRIX_H_
