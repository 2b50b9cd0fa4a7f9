// Y = X Wᵀ with quantized W and A8 X on TinyLlama-1.1B's layer shapes: the tiled SIMD
// kernel (1 and 2 threads; 1 token = decode GEMV, 8/64 tokens = batch decode/prefill)
// against the scalar oracle in the same run, and the 2:4 kernel with fractional and with
// integer zero points next to dense. Counters: weight GB/s, GOP/s (2 per MAC of the dense
// shape, so 2:4 and dense compare directly).
#include <benchmark/benchmark.h>

#include <random>

#include "quant/group_quantizer.h"
#include "quant/reference_matvec.h"
#include "workers/cpu/gemm_a8.h"           // GemmA8, GemvTargetName
#include "workers/cpu/gemm_a8_sparse24.h"  // GemmA8Sparse24
#include "workers/cpu/prepared_a8.h"       // QuantizePrepareA8

namespace accllm {
namespace {

QuantizedLinear MakeLayer(int bits, int64_t rows, int64_t cols,
                          Sparsity sparsity = Sparsity::kDense,
                          ZeroPoint zero_point = ZeroPoint::kFractional) {
  std::mt19937_64 rng(1);
  UnpackedLinear u;
  u.format = {.bits = bits,
              .scheme = WeightScheme::kUniform,
              .group = 64,
              .sparsity = sparsity,
              .zero_point = zero_point};
  u.rows = rows;
  u.cols = cols;
  u.codes.resize(rows * cols);
  for (uint8_t& c : u.codes) c = static_cast<uint8_t>(rng() % (1u << bits));
  if (sparsity == Sparsity::k2of4) {
    u.keep.assign(rows * cols, 0);
    for (int64_t i = 0; i < rows * cols; i += 4) u.keep[i + rng() % 2] = u.keep[i + 2 + rng() % 2] = 1;
  }
  const int64_t groups = (cols + 63) / 64;
  u.scales.assign(rows * groups, RoundToHalf(0.01f));
  u.zeros.assign(rows * groups, zero_point == ZeroPoint::kInteger ? 2.0f : RoundToHalf(1.5f));
  return *PackLinear(u);
}

void SetCounters(benchmark::State& state, const QuantizedLinear& q, int64_t tokens,
                 int64_t weight_passes) {
  const double weight_bytes = q.layout.total_bits() / 8.0 * static_cast<double>(weight_passes);
  state.counters["GB/s"] =
      benchmark::Counter(weight_bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GOP/s"] =
      benchmark::Counter(2.0 * q.layout.rows * q.layout.cols * tokens * 1e-9,
                         benchmark::Counter::kIsIterationInvariantRate);
}

std::vector<float> RandomActivations(int64_t n) {
  std::vector<float> x(n);
  std::mt19937_64 rng(2);
  std::normal_distribution<float> normal;
  for (float& v : x) v = normal(rng);
  return x;
}

// Args: bits, rows, cols, tokens, threads (0 = scalar oracle, token by token).
void BM_GemmA8(benchmark::State& state) {
  const int bits = static_cast<int>(state.range(0));
  const int64_t rows = state.range(1), cols = state.range(2), tokens = state.range(3);
  const int threads = static_cast<int>(state.range(4));
  const QuantizedLinear q = MakeLayer(bits, rows, cols);
  const std::vector<float> x = RandomActivations(tokens * cols);
  std::vector<float> y(tokens * rows);
  if (threads == 0) {
    std::vector<A8Vector> xs;
    for (int64_t i = 0; i < tokens; ++i)
      xs.push_back(QuantizeA8({x.data() + i * cols, size_t(cols)}));
    for (auto _ : state) {
      for (int64_t i = 0; i < tokens; ++i) {
        benchmark::DoNotOptimize(MatVecA8(q.view(), xs[i], {y.data() + i * rows, size_t(rows)}));
      }
    }
    state.SetLabel("scalar oracle");
  } else {
    const TiledLinear t = *TileLinear(q.view());
    ThreadPool pool(threads);
    for (auto _ : state) {
      const PreparedA8 p = QuantizePrepareA8(x.data(), tokens, cols, 64);
      GemmA8(t, p, y.data(), &pool);
      benchmark::DoNotOptimize(y.data());
    }
    state.SetLabel(GemvTargetName());
  }
  // Weights stream once per call (per token for the oracle).
  SetCounters(state, q, tokens, threads == 0 ? tokens : 1);
}

// Args: rows, cols, tokens, threads, integer zero points (0 or 1). W2 2:4.
void BM_GemmA8Sparse24(benchmark::State& state) {
  const int64_t rows = state.range(0), cols = state.range(1), tokens = state.range(2);
  const bool integer = state.range(4) != 0;
  const QuantizedLinear q = MakeLayer(2, rows, cols, Sparsity::k2of4,
                                      integer ? ZeroPoint::kInteger : ZeroPoint::kFractional);
  const TiledSparse24 t = *TileSparse24(q.view());
  const std::vector<float> x = RandomActivations(tokens * cols);
  std::vector<float> y(tokens * rows);
  ThreadPool pool(static_cast<int>(state.range(3)));
  for (auto _ : state) {
    const PreparedA8 p = QuantizePrepareA8(x.data(), tokens, cols, 64);
    GemmA8Sparse24(t, p, y.data(), &pool);
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(integer ? "2:4 integer zeros" : "2:4 fractional zeros");
  SetCounters(state, q, tokens, 1);
}

void Shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"bits", "rows", "cols", "tokens", "threads"});
  for (auto [rows, cols] :
       {std::pair<int64_t, int64_t>{2048, 2048}, {256, 2048}, {5632, 2048}, {2048, 5632}}) {
    for (int threads : {0, 1, 2}) b->Args({2, rows, cols, 1, threads});
    for (int64_t tokens : {8, 64}) {
      for (int threads : {1, 2}) b->Args({2, rows, cols, tokens, threads});
    }
  }
  b->Args({4, 2048, 2048, 1, 1});
}
BENCHMARK(BM_GemmA8)->Apply(Shapes)->UseRealTime()->Unit(benchmark::kMicrosecond);

void SparseShapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"rows", "cols", "tokens", "threads", "int_zero"});
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{5632, 2048}, {2048, 5632}}) {
    for (int64_t tokens : {1, 64}) {
      for (int integer : {0, 1}) b->Args({rows, cols, tokens, 2, integer});
    }
  }
  b->Args({5632, 2048, 64, 1, 0});
  b->Args({5632, 2048, 64, 1, 1});
}
BENCHMARK(BM_GemmA8Sparse24)->Apply(SparseShapes)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace accllm
