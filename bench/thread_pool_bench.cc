// What a kernel call pays the pool: an empty job (dispatch and join alone) and
// a decode-sized job (~40 µs of work on one thread), back to back as a decode
// step issues them, and after a gap long enough for the workers to sleep.
#include <benchmark/benchmark.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "workers/cpu/thread_pool.h"

namespace accllm {
namespace {

// ~`ns` of arithmetic the compiler cannot drop.
void Work(int64_t ns) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::nanoseconds(ns);
  volatile uint64_t x = 1;
  while (std::chrono::steady_clock::now() < until) {
    for (int i = 0; i < 64; ++i) x = x * 6364136223846793005ULL + 1;
  }
}

void BM_EmptyJob(benchmark::State& state) {
  ThreadPool pool(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    pool.ParallelFor(2 * pool.size(), [](int64_t, int64_t, int) {});
  }
}
BENCHMARK(BM_EmptyJob)->Arg(2)->Arg(4)->UseRealTime();

// 40 µs of single-thread work split into 64 dynamic chunks (a GEMV's row tiles).
void BM_DecodeSizedJob(benchmark::State& state) {
  ThreadPool pool(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    pool.ParallelForDynamic(64, [](int64_t b, int64_t e, int) { Work((e - b) * 40000 / 64); }, 1);
  }
}
BENCHMARK(BM_DecodeSizedJob)->Arg(1)->Arg(2)->UseRealTime();

// The first job after 2 ms idle: workers have gone to sleep and must be woken.
void BM_JobAfterIdle(benchmark::State& state) {
  ThreadPool pool(2);
  for (auto _ : state) {
    state.PauseTiming();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    state.ResumeTiming();
    pool.ParallelForDynamic(64, [](int64_t b, int64_t e, int) { Work((e - b) * 40000 / 64); }, 1);
  }
}
BENCHMARK(BM_JobAfterIdle)->UseRealTime();

}  // namespace
}  // namespace accllm
