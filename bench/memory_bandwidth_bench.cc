// Read bandwidth of this machine's memory: the roofline that decode speed is
// measured against (a 2-bit model's decode reads every weight once per token).
// Reports bytes/s for buffers far larger than the caches, 1 thread and all.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "workers/cpu/thread_pool.h"

namespace accllm {
namespace {

// Sums 64-bit words with four independent accumulators (enough to keep loads in
// flight; the compiler vectorizes it), so the loop is bound by memory, not ALUs.
uint64_t SumWords(const uint64_t* p, int64_t n) {
  uint64_t a = 0, b = 0, c = 0, d = 0;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a += p[i];
    b += p[i + 1];
    c += p[i + 2];
    d += p[i + 3];
  }
  for (; i < n; ++i) a += p[i];
  return a + b + c + d;
}

void BM_MemoryRead(benchmark::State& state) {
  const int64_t bytes = state.range(0) << 20;
  const int threads = static_cast<int>(state.range(1));
  const int64_t words = bytes / 8;
  auto* buf = static_cast<uint64_t*>(std::aligned_alloc(64, bytes));
  std::memset(buf, 1, bytes);  // touch every page
  ThreadPool pool(threads);
  std::vector<uint64_t> sums(threads);
  for (auto _ : state) {
    pool.ParallelFor(
        words, [&](int64_t b, int64_t e, int t) { sums[t] = SumWords(buf + b, e - b); }, 4096);
    benchmark::DoNotOptimize(sums.data());
  }
  state.SetBytesProcessed(state.iterations() * bytes);
  std::free(buf);
}
BENCHMARK(BM_MemoryRead)
    ->ArgNames({"MiB", "threads"})
    ->Args({1024, 1})
    ->Args({1024, 2})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace accllm
