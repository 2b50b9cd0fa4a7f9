// Attention of one GQA group (8 query heads, head_dim 64: TinyLlama-1.1B) over n
// 4-bit keys/values: the SIMD kernels against the scalar kv_quant functions in the
// same run. n is the positions a query reads: at most S + W under Λ attention,
// however long the context. Counters: KV GB/s read, GOP/s (2 per MAC, K and V).
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <vector>

#include "quant/kv_quant.h"             // QuantizeKv, DotQuantizedKey, ...
#include "workers/cpu/kv4_attention.h"  // Kv4Scores, Kv4AccumulateValues

namespace accllm {
namespace {

constexpr int kHeads = 8, kHeadDim = 64;

// Args: n, simd (0 = scalar kv_quant functions).
void BM_Kv4GroupAttention(benchmark::State& state) {
  const int64_t n = state.range(0);
  const bool simd = state.range(1) != 0;
  const int64_t cb = KvCodeBytes(kHeadDim, 4);
  std::mt19937_64 rng(1);
  std::normal_distribution<float> normal;
  std::vector<uint8_t> codes(2 * n * cb);
  std::vector<Kv4Ref> keys(n), values(n);
  std::vector<float> x(kHeadDim);
  for (int64_t i = 0; i < n; ++i) {
    for (float& v : x) v = normal(rng);
    keys[i] = {codes.data() + i * cb, QuantizeKv(x, 4, {codes.data() + i * cb, size_t(cb)})};
    uint8_t* vc = codes.data() + (n + i) * cb;
    values[i] = {vc, QuantizeKv(x, 4, {vc, size_t(cb)})};
  }
  std::vector<float> q(kHeads * kHeadDim), w(kHeads * n), out(kHeads * kHeadDim);
  for (float& v : q) v = normal(rng);
  const float scale = 0.125f;
  for (auto _ : state) {
    if (simd) {
      Kv4Scores(q.data(), kHeads, kHeadDim, keys, scale, w.data(), n);
    } else {
      for (int h = 0; h < kHeads; ++h) {
        for (int64_t i = 0; i < n; ++i) {
          w[h * n + i] = DotQuantizedKey({q.data() + h * kHeadDim, size_t(kHeadDim)},
                                         {keys[i].codes, size_t(cb)}, keys[i].params, 4) *
                         scale;
        }
      }
    }
    if (simd) {
      for (int h = 0; h < kHeads; ++h) SoftmaxInPlace(w.data() + h * n, n);
    } else {
      for (float& v : w) v = std::exp(v) * 1e-3f;  // a stand-in softmax (the same exps)
    }
    std::fill(out.begin(), out.end(), 0.0f);
    if (simd) {
      Kv4AccumulateValues(w.data(), n, kHeads, kHeadDim, values, out.data());
    } else {
      for (int h = 0; h < kHeads; ++h) {
        for (int64_t i = 0; i < n; ++i) {
          AccumulateQuantizedValue(w[h * n + i], {values[i].codes, size_t(cb)}, values[i].params, 4,
                                   {out.data() + h * kHeadDim, size_t(kHeadDim)});
        }
      }
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(simd ? "simd" : "scalar");
  const double bytes = 2.0 * n * (cb + sizeof(KvQuantParams));
  state.counters["GB/s"] =
      benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GOP/s"] = benchmark::Counter(4.0 * kHeads * kHeadDim * n * 1e-9,
                                               benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Kv4GroupAttention)
    ->ArgNames({"n", "simd"})
    ->ArgsProduct({{64, 256, 1028, 4096}, {0, 1}})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace accllm
