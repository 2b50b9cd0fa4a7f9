#include "quant/hessian.h"

#include <cmath>  // std::sqrt

#include "absl/strings/str_cat.h"  // absl::StrCat

namespace accllm {

HessianAccumulator::HessianAccumulator(int64_t cols)
    : cols_(cols), sum_(static_cast<size_t>(cols * cols), 0.0) {}

absl::Status HessianAccumulator::Add(std::span<const float> x, int64_t samples) {
  if (samples < 0 || x.size() != static_cast<size_t>(samples * cols_)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "calibration batch holds ", x.size(), " values, expected [", samples, ", ", cols_, "]"));
  }
  for (int64_t s = 0; s < samples; ++s) {
    const float* row = x.data() + s * cols_;
    for (int64_t i = 0; i < cols_; ++i) {
      const double xi = row[i];
      if (xi == 0.0) continue;
      double* out = sum_.data() + i * cols_;
      for (int64_t j = i; j < cols_; ++j) out[j] += xi * row[j];
    }
  }
  samples_ += samples;
  return absl::OkStatus();
}

std::vector<double> HessianAccumulator::Hessian() const {
  std::vector<double> h(sum_.size(), 0.0);
  if (samples_ == 0) return h;
  const double inv = 1.0 / static_cast<double>(samples_);
  for (int64_t i = 0; i < cols_; ++i) {
    for (int64_t j = i; j < cols_; ++j) {
      const double v = sum_[static_cast<size_t>(i * cols_ + j)] * inv;
      h[static_cast<size_t>(i * cols_ + j)] = v;
      h[static_cast<size_t>(j * cols_ + i)] = v;
    }
  }
  return h;
}

absl::Status CholeskyLower(std::span<double> a, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    double d = a[static_cast<size_t>(j * n + j)];
    for (int64_t k = 0; k < j; ++k) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0.0)) {
      return absl::FailedPreconditionError(
          absl::StrCat("matrix is not positive definite (pivot ", j, " is ", d, ")"));
    }
    const double ljj = std::sqrt(d);
    a[static_cast<size_t>(j * n + j)] = ljj;
    for (int64_t i = j + 1; i < n; ++i) {
      double s = a[static_cast<size_t>(i * n + j)];
      for (int64_t k = 0; k < j; ++k) s -= a[i * n + k] * a[j * n + k];
      a[static_cast<size_t>(i * n + j)] = s / ljj;
    }
    for (int64_t k = j + 1; k < n; ++k) a[static_cast<size_t>(j * n + k)] = 0.0;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<double>> UpperCholeskyOfInverse(std::span<const double> a, int64_t n) {
  // a = L L^T  =>  a^-1 = L^-T L^-1. Invert L (lower triangular), form a^-1, then factor it.
  std::vector<double> l(a.begin(), a.end());
  if (absl::Status s = CholeskyLower(l, n); !s.ok()) return s;
  std::vector<double> linv(static_cast<size_t>(n * n), 0.0);  // lower
  for (int64_t j = 0; j < n; ++j) {
    linv[j * n + j] = 1.0 / l[j * n + j];
    for (int64_t i = j + 1; i < n; ++i) {
      double s = 0.0;
      for (int64_t k = j; k < i; ++k) s += l[i * n + k] * linv[k * n + j];
      linv[i * n + j] = -s / l[i * n + i];
    }
  }
  std::vector<double> inv(static_cast<size_t>(n * n), 0.0);  // L^-T L^-1
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j <= i; ++j) {
      double s = 0.0;
      for (int64_t k = i; k < n; ++k) s += linv[k * n + i] * linv[k * n + j];
      inv[i * n + j] = s;
      inv[j * n + i] = s;
    }
  }
  if (absl::Status s = CholeskyLower(inv, n); !s.ok()) return s;
  // Upper U = L'^T where inv = L' L'^T... but GPTQ wants inv = U^T U, i.e. U = L'^T.
  std::vector<double> upper(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j <= i; ++j) upper[j * n + i] = inv[i * n + j];
  }
  return upper;
}

}  // namespace accllm
