#include "workers/engine/int8_row_matrix.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"     // absl::StrCat
#include "model/dtype.h"              // HalfToFloat
#include "workers/cpu/quantize_a8.h"  // QuantizeA8Row

namespace accllm {
namespace {

absl::StatusOr<TensorView> GetChecked(const TensorStore& store, const std::string& name,
                                      DType dtype, std::vector<int64_t> shape) {
  if (!store.Contains(name)) {
    return absl::NotFoundError(absl::StrCat(store.dir().string(), ": tensor \"", name,
                                            "\" not found (an 8-bit table needs it)"));
  }
  absl::StatusOr<TensorView> t = store.Get(name);
  if (!t.ok()) return t.status();
  TensorView want;
  want.shape = shape;
  if (t->dtype != dtype || t->shape != shape) {
    return absl::InvalidArgumentError(absl::StrCat(
        store.dir().string(), ": tensor \"", name, "\" is ", std::string(DTypeName(t->dtype)), " ",
        t->ShapeString(), ", expected ", std::string(DTypeName(dtype)), " ", want.ShapeString()));
  }
  return t;
}

}  // namespace

absl::StatusOr<Int8RowMatrix> Int8RowMatrix::Read(const TensorStore& store, std::string_view prefix,
                                                  int64_t rows, int64_t cols, bool a8,
                                                  std::shared_ptr<SharedThreadPool> pool) {
  const std::string p(prefix);
  absl::StatusOr<TensorView> q = GetChecked(store, p + ".qweight", DType::kI8, {rows, cols});
  if (!q.ok()) return q.status();
  absl::StatusOr<TensorView> s = GetChecked(store, p + ".scales", DType::kF16, {rows});
  if (!s.ok()) return s.status();
  Int8RowMatrix m;
  m.rows_ = rows;
  m.cols_ = cols;
  m.a8_ = a8;
  m.scales_.resize(static_cast<size_t>(rows));
  std::memcpy(m.scales_.data(), s->data.data(), m.scales_.size() * 2);
  m.scale_f_.resize(m.scales_.size());
  for (int64_t r = 0; r < rows; ++r) {
    const float v = HalfToFloat(m.scales_[r]);
    if (!std::isfinite(v) || v < 0) {
      return absl::InvalidArgumentError(absl::StrCat(store.dir().string(), ": tensor \"", p,
                                                     ".scales\" row ", r, " is ", v,
                                                     ", expected a finite value >= 0"));
    }
    m.scale_f_[r] = v;
  }
  const auto* values = reinterpret_cast<const int8_t*>(q->data.data());  // I8: any alignment
  for (int64_t i = 0; i < rows * cols; ++i) {
    if (values[i] == -128) {
      return absl::InvalidArgumentError(absl::StrCat(store.dir().string(), ": tensor \"", p,
                                                     ".qweight\" holds -128 (symmetric int8 "
                                                     "uses -127..127)"));
    }
  }
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
