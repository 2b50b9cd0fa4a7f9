// The quantizer's double GEMM (quant/dense_kernels.h) at the shapes it runs on a 1B model:
// a Hessian rank-256 update of one 64-row block (b: the tokens, [256, cols]) and the error
// report's V·H (b: the Hessian, [cols, cols]), GFLOP/s per shape; and GPTQ's Hessian factor.
#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "quant/dense_kernels.h"
#include "quant/hessian.h"

namespace accllm {
namespace {

std::vector<double> Filled(int64_t n, double phase) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<size_t>(i)] = std::sin(0.37 * i + phase);
  return v;
}

// c[m, n] += a[m, k] · b[k, n], b's rows `n` apart (both cases read all of b's columns).
void BM_GemmAccumulate(benchmark::State& state) {
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  const std::vector<double> a = Filled(m * k, 0.1), b = Filled(k * n, 0.2);
  std::vector<double> c(static_cast<size_t>(m * n), 0.0);
  for (auto _ : state) {
    GemmAccumulate(m, n, k, a.data(), k, b.data(), n, c.data(), n);
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(m * n * k),
                                                 benchmark::Counter::kIsIterationInvariantRate,
                                                 benchmark::Counter::kIs1000);
}
BENCHMARK(BM_GemmAccumulate)
    ->ArgNames({"m", "n", "k"})
    ->Args({64, 2048, 256})    // Hessian update, 2048-wide input
    ->Args({64, 5632, 256})    // Hessian update, 5632-wide input (down_proj)
    ->Args({128, 2048, 2048})  // error report block: [d; s] rows times H
    ->UseRealTime();

// GPTQ's factor of a damped n×n Hessian (one Cholesky and one triangular inversion).
void BM_UpperCholeskyOfInverse(benchmark::State& state) {
  const int64_t n = state.range(0);
  std::vector<double> h(static_cast<size_t>(n * n));
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) h[i * n + j] = 1.0 / (1.0 + std::abs(i - j));
    h[i * n + i] += 1.0;
  }
  for (auto _ : state) benchmark::DoNotOptimize(UpperCholeskyOfInverse(h, n));
}
BENCHMARK(BM_UpperCholeskyOfInverse)->Arg(1024)->Arg(2048)->Arg(4096)->UseRealTime()->Unit(
    benchmark::kMillisecond);

}  // namespace
}  // namespace accllm
