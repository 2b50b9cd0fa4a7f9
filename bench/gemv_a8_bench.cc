// W·x with quantized W and A8 x on TinyLlama-1.1B's layer shapes: the tiled SIMD
// kernel (1 and 2 threads) against the scalar oracle in the same run.
// Reports weight bytes read per second and multiply-accumulates per second.
#include <benchmark/benchmark.h>

#include <random>

#include "quant/group_quantizer.h"
#include "quant/reference_matvec.h"
#include "workers/cpu/gemm_a8.h"

namespace accllm {
namespace {

QuantizedLinear MakeLayer(int bits, int64_t rows, int64_t cols) {
  std::mt19937_64 rng(1);
  UnpackedLinear u;
  u.format = {.bits = bits, .scheme = WeightScheme::kUniform, .group = 64,
              .sparsity = Sparsity::kDense};
  u.rows = rows;
  u.cols = cols;
  u.codes.resize(rows * cols);
  for (uint8_t& c : u.codes) c = static_cast<uint8_t>(rng() % (1u << bits));
  const int64_t groups = (cols + 63) / 64;
  u.scales.assign(rows * groups, RoundToHalf(0.01f));
  u.zeros.assign(rows * groups, RoundToHalf(1.5f));
  return *PackLinear(u);
}

A8Vector MakeInput(int64_t cols) {
  std::vector<float> x(cols);
  std::mt19937_64 rng(2);
  std::normal_distribution<float> n;
  for (float& v : x) v = n(rng);
  return QuantizeA8(x);
}

// Args: bits, rows, cols, threads (0 = scalar oracle).
void BM_GemvA8(benchmark::State& state) {
  const int bits = static_cast<int>(state.range(0));
  const int64_t rows = state.range(1), cols = state.range(2);
  const int threads = static_cast<int>(state.range(3));
  const QuantizedLinear q = MakeLayer(bits, rows, cols);
  const A8Vector x = MakeInput(cols);
  std::vector<float> y(rows);
  if (threads == 0) {
    for (auto _ : state) {
      benchmark::DoNotOptimize(MatVecA8(q.view(), x, y));
    }
    state.SetLabel("scalar oracle");
  } else {
    const TiledLinear t = *TileLinear(q.view());
    ThreadPool pool(threads);
    for (auto _ : state) {
      const PreparedA8 p = PrepareA8(x, cols, 64);
      GemvA8(t, p, y, &pool);
      benchmark::DoNotOptimize(y.data());
    }
    state.SetLabel(GemvTargetName());
  }
  const double weight_bytes = q.layout.total_bits() / 8.0;
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * weight_bytes));
  state.counters["GMAC/s"] = benchmark::Counter(static_cast<double>(rows * cols) * 1e-9,
                                                benchmark::Counter::kIsIterationInvariantRate);
}

void Shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"bits", "rows", "cols", "threads"});
  for (int bits : {2, 4}) {
    for (auto [rows, cols] : {std::pair<int64_t, int64_t>{2048, 2048}, {256, 2048}, {5632, 2048},
                              {2048, 5632}}) {
      for (int threads : {0, 1, 2}) b->Args({bits, rows, cols, threads});
    }
  }
}
BENCHMARK(BM_GemvA8)->Apply(Shapes)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace accllm
