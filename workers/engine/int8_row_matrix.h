// An int8 per-row symmetric matrix: the 8-bit embedding and LM head of a
// quantized model, stored as "<name>.qweight" I8 [rows, cols] and
// "<name>.scales" F16 [rows]; W[r, c] = scale[r] * q[r, c]. As the head with A8
// activations, the final hidden state is quantized with QuantizeA8 and each row
// is an exact int32 dot product (the SIMD int8 kernel), dequantized with
// scale[r] * x.scale.
#ifndef ACCLLM_WORKERS_ENGINE_INT8_ROW_MATRIX_H_
#define ACCLLM_WORKERS_ENGINE_INT8_ROW_MATRIX_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"            // absl::StatusOr
#include "model/tensor_store.h"              // TensorStore
#include "workers/cpu/int8_gemm.h"           // TiledInt8
#include "workers/engine/embedding_table.h"  // EmbeddingTable
#include "workers/engine/linear.h"           // Linear
#include "workers/engine/shared_thread_pool.h"  // SharedThreadPool

namespace accllm {

class Int8RowMatrix : public Linear, public EmbeddingTable {
 public:
  // Reads "<prefix>.qweight" and "<prefix>.scales", checking dtype and shape [rows, cols];
  // errors name the tensor. `a8`: Apply quantizes x to int8 (else float x).
  // With `a8` the rows are kept only as tiles for the SIMD int8 kernel
  // (workers/cpu/int8_gemm.h), which runs on `pool` (may be null); Row reads the tiles too.
  static absl::StatusOr<Int8RowMatrix> Read(const TensorStore& store, std::string_view prefix,
                                            int64_t rows, int64_t cols, bool a8,
                                            std::shared_ptr<SharedThreadPool> pool = nullptr);
  int64_t rows() const override { return rows_; }
  int64_t cols() const override { return cols_; }
  void Apply(std::span<const float> x, std::span<float> y) const override;
  void ApplyBatch(const float* x, int64_t n, float* y) const override;
  void Row(int64_t r, std::span<float> out) const override;
  int64_t weight_bytes() const override { return rows_ * cols_ + 2 * rows_; }

  const std::vector<uint16_t>& scales() const { return scales_; }  // [rows] fp16 bits

 private:
  int64_t rows_ = 0, cols_ = 0;
  bool a8_ = true;
  std::vector<int8_t> q_;         // [rows, cols] copied out of the mapping; empty when tiled
  std::vector<uint16_t> scales_;  // copied: an F16 tensor may be misaligned in the file
  std::vector<float> scale_f_;    // [rows] decoded scales
  std::shared_ptr<const TiledInt8> tiled_;  // a8: the rows as the SIMD kernel reads them
  std::shared_ptr<SharedThreadPool> pool_;
};

}  // namespace accllm

#endif  // ACCLLM_WORKERS_ENGINE_INT8_ROW_MATRIX_H_
