#include "workers/engine/int8_row_matrix.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"     // absl::StrCat
#include "quant/int8_rows_io.h"       // ReadInt8Table
#include "workers/cpu/quantize_a8.h"  // QuantizeA8Row

namespace accllm {

absl::StatusOr<Int8RowMatrix> Int8RowMatrix::Read(const TensorStore& store, std::string_view prefix,
                                                  int64_t rows, int64_t cols, bool a8,
                                                  std::shared_ptr<SharedThreadPool> pool) {
  absl::StatusOr<Int8TableView> table = ReadInt8Table(store, prefix, rows, cols);
  if (!table.ok()) return table.status();
  Int8RowMatrix m;
  m.rows_ = rows;
  m.cols_ = cols;
  m.a8_ = a8;
  m.scales_ = std::move(table->scales);
  m.scale_f_ = std::move(table->scale_f);
  const int8_t* values = table->values.data();
  // One copy of the values, in the form the reads want: the tiles (Row reads them too) or
  // the rows as stored.
  if (a8) {
    m.tiled_ = std::make_shared<const TiledInt8>(TileInt8(values, rows, cols));
  } else {
    m.q_.assign(values, values + rows * cols);
  }
  m.pool_ = std::move(pool);
  return m;
}

void Int8RowMatrix::Row(int64_t r, std::span<float> out) const {
  if (tiled_) {
    for (int64_t c = 0; c < cols_; ++c) {
      out[c] = scale_f_[r] * static_cast<float>(tiled_->blocks[tiled_->index(r, c)]);
    }
    return;
  }
  const int8_t* q = q_.data() + r * cols_;
  for (int64_t c = 0; c < cols_; ++c) out[c] = scale_f_[r] * static_cast<float>(q[c]);
}

void Int8RowMatrix::Apply(std::span<const float> x, std::span<float> y) const {
  if (a8_) {
    ApplyBatch(x.data(), 1, y.data());
    return;
  }
  for (int64_t r = 0; r < rows_; ++r) {
    const int8_t* q = q_.data() + r * cols_;
    float sum = 0.0f;
    for (int64_t c = 0; c < cols_; ++c) sum += static_cast<float>(q[c]) * x[c];
    y[r] = scale_f_[r] * sum;
  }
}

void Int8RowMatrix::ApplyBatch(const float* x, int64_t n, float* y) const {
  if (!a8_) {
    Linear::ApplyBatch(x, n, y);
    return;
  }
  // Each token quantized to int8 (zero padded to the kernel's 4-column steps); the dots
  // are exact, then y = dot · scale[r] · x.scale as the scalar form computes it.
  const int64_t stride = tiled_->steps * 4;
  std::vector<int8_t> xq(static_cast<size_t>(n * stride), 0);
  std::vector<float> xs(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    xs[i] = QuantizeA8Row(x + i * cols_, cols_, xq.data() + i * stride);
  std::vector<int32_t> dots(static_cast<size_t>(n * rows_));
  RunOnPool(pool_.get(),
            [&](ThreadPool* pool) { Int8Gemm(*tiled_, xq.data(), stride, n, dots.data(), pool); });
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t r = 0; r < rows_; ++r) {
      y[i * rows_ + r] = static_cast<float>(dots[i * rows_ + r]) * scale_f_[r] * xs[i];
    }
  }
}

}  // namespace accllm
