#include "quant/hessian.h"

#include <algorithm>  // std::fill, std::min
#include <cmath>      // std::sqrt
#include <cstdlib>    // std::calloc, std::free

#include "absl/strings/str_cat.h"  // absl::StrCat
#include "quant/dense_kernels.h"   // GemmAccumulate, DotProduct, Axpy

namespace accllm {

// The sum is allocated by the first Add: a 1B model has 88 input sites of up to 254 MB each,
// for fitting and held out, and zeroing them all up front took most of a short calibration.
HessianAccumulator::HessianAccumulator(int64_t cols) : cols_(cols) {}

void HessianAccumulator::FreeDeleter::operator()(double* p) const { std::free(p); }

absl::Status HessianAccumulator::Add(std::span<const float> x, int64_t samples) {
  if (samples < 0 || x.size() != static_cast<size_t>(samples * cols_)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "calibration batch holds ", x.size(), " values, expected [", samples, ", ", cols_, "]"));
  }
  // X^T X as a rank-k update over chunks of tokens (one GEMM each), not token by token: the
  // [cols, cols] sum then streams through the cache once per chunk instead of once per token.
  // Only blocks on or right of the diagonal are computed (Hessian() reads the upper triangle).
  if (samples > 0 && sum_ == nullptr) {
    const size_t n = static_cast<size_t>(cols_ * cols_);
    sum_.reset(static_cast<double*>(std::calloc(n, sizeof(double))));
    if (sum_ == nullptr) {
      return absl::ResourceExhaustedError(
          absl::StrCat("calibration: no memory for a ", cols_, "x", cols_, " Hessian"));
    }
  }
  constexpr int64_t kChunk = 256, kRowBlock = 64;
  std::vector<double> xt, xd;  // [cols, chunk] and [chunk, cols]
  for (int64_t s0 = 0; s0 < samples; s0 += kChunk) {
    const int64_t s = std::min(kChunk, samples - s0);
    xt.assign(static_cast<size_t>(cols_ * s), 0.0);
    xd.assign(static_cast<size_t>(s * cols_), 0.0);
    for (int64_t t = 0; t < s; ++t) {
      const float* row = x.data() + (s0 + t) * cols_;
      for (int64_t i = 0; i < cols_; ++i) {
        xd[static_cast<size_t>(t * cols_ + i)] = row[i];
        xt[static_cast<size_t>(i * s + t)] = row[i];
      }
    }
    for (int64_t i0 = 0; i0 < cols_; i0 += kRowBlock) {
      const int64_t m = std::min(kRowBlock, cols_ - i0);
      GemmAccumulate(m, cols_ - i0, s, xt.data() + i0 * s, s, xd.data() + i0, cols_,
                     sum_.get() + i0 * cols_ + i0, cols_);
    }
  }
  samples_ += samples;
  return absl::OkStatus();
}

std::vector<double> HessianAccumulator::Hessian() const {
  std::vector<double> h(static_cast<size_t>(cols_ * cols_), 0.0);
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
  // Row by row: row i (in L1) against the rows above it, dot products over contiguous memory.
  for (int64_t i = 0; i < n; ++i) {
    double* li = a.data() + i * n;
    for (int64_t j = 0; j < i; ++j) {
      const double* lj = a.data() + j * n;
      li[j] = (li[j] - DotProduct(li, lj, j)) / lj[j];
    }
    const double d = li[i] - DotProduct(li, li, i);
    if (!(d > 0.0)) {
      return absl::FailedPreconditionError(
          absl::StrCat("matrix is not positive definite (pivot ", i, " is ", d, ")"));
    }
    li[i] = std::sqrt(d);
    std::fill(li + i + 1, li + n, 0.0);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<double>> UpperCholeskyOfInverse(std::span<const double> a, int64_t n) {
  // With J the index reversal, J a J = L L^T (one Cholesky), so a = M M^T with M = J L J upper
  // and a^-1 = M^-T M^-1: U = M^-1 = J L^-1 J is upper with a positive diagonal, the factor
  // asked for. One factorization and one triangular inversion, no explicit inverse.
  const size_t nn = static_cast<size_t>(n * n);
  std::vector<double> l(nn);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) l[i * n + j] = a[(n - 1 - i) * n + (n - 1 - j)];
  }
  if (absl::Status s = CholeskyLower(l, n); !s.ok()) return s;
  // X = L^-1 by rows: X_i = (e_i - sum_{k<i} L_ik X_k) / L_ii. In blocks of kBlock rows: the
  // rows above the block enter as one GEMM per column block (X is lower triangular, so column
  // block C needs only rows from C on), the block's own rows as axpys. Row by row alone, every
  // row streamed all the rows above it: 82% of a 1B model's GPTQ time went to those axpys.
  constexpr int64_t kBlock = 64;
  std::vector<double> x(nn, 0.0);
  std::vector<double> neg_l(static_cast<size_t>(kBlock * n));  // -L of the block's rows
  for (int64_t i0 = 0; i0 < n; i0 += kBlock) {
    const int64_t i1 = std::min(n, i0 + kBlock);
    for (int64_t i = i0; i < i1; ++i) {
      for (int64_t k = 0; k < i0; ++k) neg_l[(i - i0) * n + k] = -l[i * n + k];
    }
    for (int64_t c0 = 0; c0 < i0; c0 += kBlock) {
      const int64_t c1 = std::min(i0, c0 + kBlock);
      GemmAccumulate(i1 - i0, c1 - c0, i0 - c0, neg_l.data() + c0, n, x.data() + c0 * n + c0, n,
                     x.data() + i0 * n + c0, n);
    }
    for (int64_t i = i0; i < i1; ++i) {
      double* xi = x.data() + i * n;
      const double* li = l.data() + i * n;
      for (int64_t k = i0; k < i; ++k) Axpy(-li[k], x.data() + k * n, xi, k + 1);
      const double inv = 1.0 / li[i];
      for (int64_t j = 0; j < i; ++j) xi[j] *= inv;
      xi[i] = inv;
    }
  }
  std::vector<double> upper(nn, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = i; j < n; ++j) upper[i * n + j] = x[(n - 1 - i) * n + (n - 1 - j)];
  }
  return upper;
}

}  // namespace accllm
