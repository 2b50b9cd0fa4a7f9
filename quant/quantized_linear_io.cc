#include "quant/quantized_linear_io.h"

#include <cstring>  // std::memcpy
#include <vector>

#include "absl/strings/str_cat.h"   // absl::StrCat
#include "absl/strings/str_join.h"  // absl::StrJoin
#include "model/dtype.h"            // DType, DTypeName
#include "model/tensor.h"           // TensorView

namespace accllm {
namespace {

constexpr std::string_view kWeightSuffix = ".weight";

std::string ShapeString(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

// Copies tensor `name` (dtype, shape as expected) into out (resized to its element count).
template <typename T>
absl::Status ReadTensor(const TensorStore& store, const std::string& name, DType dtype,
                        const std::vector<int64_t>& shape, std::vector<T>* out) {
  absl::StatusOr<TensorView> view = store.Get(name);
  if (!view.ok()) {
    return absl::NotFoundError(
        absl::StrCat("quantized tensor ", name, " is missing: ", view.status().message()));
  }
  if (view->dtype != dtype) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", name, " has dtype ",
                                                   std::string(DTypeName(view->dtype)),
                                                   ", expected ", std::string(DTypeName(dtype))));
  }
  if (view->shape != shape) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", name, " has shape ",
                                                   ShapeString(view->shape), ", expected ",
                                                   ShapeString(shape)));
  }
  if (view->data.size() != static_cast<size_t>(view->numel()) * sizeof(T)) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", name, " holds ", view->data.size(),
                                                   " bytes, expected ", view->numel() * sizeof(T)));
  }
  out->resize(static_cast<size_t>(view->numel()));
  // memcpy: safetensors data need not be aligned for T.
  if (!out->empty()) std::memcpy(out->data(), view->data.data(), view->data.size());
  return absl::OkStatus();
}

}  // namespace

std::string QuantizedTensorPrefix(std::string_view name) {
  if (name.size() > kWeightSuffix.size() && name.ends_with(kWeightSuffix)) {
    name.remove_suffix(kWeightSuffix.size());
  }
  return std::string(name);
}

absl::Status AddQuantizedLinear(SafetensorsWriter& writer, std::string_view prefix,
                                const QuantizedLinear& q) {
  if (absl::Status s = ValidateQuantizedLinear(q.view()); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(prefix), ": not written: ", s.message()));
  }
  const PackedLayout& l = q.layout;
  const std::string p(prefix);
  if (absl::Status s = writer.Add(p + ".qweight", DType::kU8, {l.rows, l.qweight_row_bytes},
                                  std::as_bytes(std::span(q.qweight)));
      !s.ok()) {
    return s;
  }
  if (absl::Status s = writer.Add(p + ".scales", DType::kF16, {l.rows, l.num_groups},
                                  std::as_bytes(std::span(q.scales)));
      !s.ok()) {
    return s;
  }
  if (l.has_zeros) {
    if (absl::Status s = writer.Add(p + ".zeros", DType::kF16, {l.rows, l.num_groups},
                                    std::as_bytes(std::span(q.zeros)));
        !s.ok()) {
      return s;
    }
  }
  if (l.has_mask) {
    if (absl::Status s = writer.Add(p + ".mask", DType::kU8, {l.rows, l.mask_row_bytes},
                                    std::as_bytes(std::span(q.mask)));
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<QuantizedLinear> ReadQuantizedLinear(const TensorStore& store,
                                                    std::string_view prefix,
                                                    const WeightFormat& format, int64_t rows,
                                                    int64_t cols) {
  const std::string p(prefix);
  absl::StatusOr<PackedLayout> layout = ComputePackedLayout(format, rows, cols);
  if (!layout.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(p, ": format ", format.ToString(), ": ", layout.status().message()));
  }
  const PackedLayout& l = *layout;
  QuantizedLinear q;
  q.format = format;
  q.layout = l;
  if (absl::Status s =
          ReadTensor(store, p + ".qweight", DType::kU8, {rows, l.qweight_row_bytes}, &q.qweight);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          ReadTensor(store, p + ".scales", DType::kF16, {rows, l.num_groups}, &q.scales);
      !s.ok()) {
    return s;
  }
  if (l.has_zeros) {
    if (absl::Status s =
            ReadTensor(store, p + ".zeros", DType::kF16, {rows, l.num_groups}, &q.zeros);
        !s.ok()) {
      return s;
    }
  } else if (store.Contains(p + ".zeros")) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", p, ".zeros is present but format ",
                                                   format.ToString(), " has no zero points"));
  }
  if (l.has_mask) {
    if (absl::Status s =
            ReadTensor(store, p + ".mask", DType::kU8, {rows, l.mask_row_bytes}, &q.mask);
        !s.ok()) {
      return s;
    }
  } else if (store.Contains(p + ".mask")) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor ", p, ".mask is present but format ", format.ToString(), " is dense"));
  }
  if (absl::Status s = ValidateQuantizedLinear(q.view()); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", p, ".", s.message()));
  }
  return q;
}

}  // namespace accllm
