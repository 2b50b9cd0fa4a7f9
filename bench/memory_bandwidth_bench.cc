// Read bandwidth of this machine's memory: the roofline that decode speed is
// measured against (a 2-bit model's decode reads every weight once per token).
// Reports bytes/s for buffers far larger than the caches, 1 thread and all.
// The measuring code is workers/cpu/memory_bandwidth.h (bench-engine uses it too).
#include <benchmark/benchmark.h>

#include <cstdint>

#include "workers/cpu/memory_bandwidth.h"  // BandwidthBuffer
#include "workers/cpu/thread_pool.h"       // ThreadPool

namespace accllm {
namespace {

void BM_MemoryRead(benchmark::State& state) {
  const BandwidthBuffer buffer(state.range(0) << 20);
  ThreadPool pool(static_cast<int>(state.range(1)));
  for (auto _ : state) benchmark::DoNotOptimize(buffer.ReadOnce(pool));
  state.SetBytesProcessed(state.iterations() * buffer.bytes());
}
BENCHMARK(BM_MemoryRead)
    ->ArgNames({"MiB", "threads"})
    ->Args({1024, 1})
    ->Args({1024, 2})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace accllm
