// The layer Hessian of the squared output error, H = (1/n) sum over calibration samples x x^T
// ([cols, cols], double), and the dense linear algebra GPTQ needs on it.
#ifndef ACCLLM_QUANT_HESSIAN_H_
#define ACCLLM_QUANT_HESSIAN_H_

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/status.h"    // absl::Status
#include "absl/status/statusor.h"  // absl::StatusOr

namespace accllm {

// Streams calibration activations in as they come (one batch of tokens at a time).
class HessianAccumulator {
 public:
  explicit HessianAccumulator(int64_t cols);

  // x [samples, cols]: one input vector per token.
  absl::Status Add(std::span<const float> x, int64_t samples);

  int64_t cols() const { return cols_; }
  int64_t samples() const { return samples_; }
  // (1/samples) X^T X, [cols, cols]; all zeros before any sample.
  std::vector<double> Hessian() const;

 private:
  int64_t cols_;
  int64_t samples_ = 0;
  // [cols, cols], X^T X: only the upper triangle is ever written (Add) and read (Hessian), so
  // it is calloc'd — fresh zero pages from the OS at these sizes — and the pages wholly below
  // the diagonal are never touched: about half the resident memory of a dense zeroed matrix
  // (a 1B model's 176 input sites of up to 254 MB each). Null before the first sample.
  struct FreeDeleter {
    void operator()(double* p) const;
  };
  std::unique_ptr<double[], FreeDeleter> sum_;
};

// a [n, n] symmetric positive definite -> its lower Cholesky factor L (a = L L^T) in place
// (the upper triangle is zeroed). FailedPrecondition when a is not positive definite.
absl::Status CholeskyLower(std::span<double> a, int64_t n);

// a [n, n] SPD -> upper U with a^-1 = U^T U: what GPTQ walks column by column (row i of U,
// scaled by 1/U_ii, is how the error of column i spreads over the later columns).
absl::StatusOr<std::vector<double>> UpperCholeskyOfInverse(std::span<const double> a, int64_t n);

}  // namespace accllm

#endif  // ACCLLM_QUANT_HESSIAN_H_
