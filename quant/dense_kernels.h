// Double-precision dense kernels for the quantization tooling (Hessians, rotations, GPTQ's
// factor and lazy updates, error measurement): SIMD through Highway, dispatched at run time.
// Row-major matrices with leading dimensions (elements between rows).
#ifndef ACCLLM_QUANT_DENSE_KERNELS_H_
#define ACCLLM_QUANT_DENSE_KERNELS_H_

#include <cstdint>

namespace accllm {

// c [m, n] += a [m, k] · b [k, n]. Each c element sums its k products in ascending k order
// (fused multiply-adds), whatever m and n are.
void GemmAccumulate(int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, const double* b,
                    int64_t ldb, double* c, int64_t ldc);

// sum_i a[i] * b[i].
double DotProduct(const double* a, const double* b, int64_t n);

// y[i] += alpha * x[i].
void Axpy(double alpha, const double* x, double* y, int64_t n);

}  // namespace accllm

#endif  // ACCLLM_QUANT_DENSE_KERNELS_H_
