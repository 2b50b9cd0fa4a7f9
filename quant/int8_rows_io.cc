#include "quant/int8_rows_io.h"

#include <cmath>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"  // absl::StrCat
#include "model/dtype.h"           // HalfToFloat, DTypeName

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

absl::StatusOr<Int8TableView> ReadInt8Table(const TensorStore& store, std::string_view prefix,
                                            int64_t rows, int64_t cols) {
  const std::string p(prefix);
  absl::StatusOr<TensorView> q = GetChecked(store, p + ".qweight", DType::kI8, {rows, cols});
  if (!q.ok()) return q.status();
  absl::StatusOr<TensorView> s = GetChecked(store, p + ".scales", DType::kF16, {rows});
  if (!s.ok()) return s.status();
  Int8TableView t;
  t.scales.resize(static_cast<size_t>(rows));
  std::memcpy(t.scales.data(), s->data.data(), t.scales.size() * 2);
  t.scale_f.resize(t.scales.size());
  for (int64_t r = 0; r < rows; ++r) {
    const float v = HalfToFloat(t.scales[r]);
    if (!std::isfinite(v) || v < 0) {
      return absl::InvalidArgumentError(absl::StrCat(store.dir().string(), ": tensor \"", p,
                                                     ".scales\" row ", r, " is ", v,
                                                     ", expected a finite value >= 0"));
    }
    t.scale_f[r] = v;
  }
  const auto* values = reinterpret_cast<const int8_t*>(q->data.data());  // I8: any alignment
  for (int64_t i = 0; i < rows * cols; ++i) {
    if (values[i] == -128) {
      return absl::InvalidArgumentError(absl::StrCat(store.dir().string(), ": tensor \"", p,
                                                     ".qweight\" holds -128 (symmetric int8 "
                                                     "uses -127..127)"));
    }
  }
  t.values = std::span<const int8_t>(values, static_cast<size_t>(rows * cols));
  return t;
}

}  // namespace accllm
