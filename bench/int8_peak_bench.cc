// The compute roofline of the x86 W2/W4 × A8 kernels without VNNI: how many u8×s8 products
// per second this machine's VPMADDUBSW gives, alone and in the kernels' inner-loop pattern
// (each product vector added into an i16 sum, VPADDW, as gemm_a8_avx2-inl.h does). The
// operands stay in registers, so nothing but the vector units limits it. GOP/s counts a
// multiply and an add per product, as gemm_a8_bench does: divide a GEMM's GOP/s by these.
#include <benchmark/benchmark.h>

#include <cstdint>

#include "workers/cpu/thread_pool.h"  // ThreadPool

namespace accllm {
namespace {

#if defined(__x86_64__)
// 64 VPMADDUBSW on 8 independent destinations: 64 × 32 products per call.
void MaddubsOnly(int64_t calls) {
  for (int64_t i = 0; i < calls; ++i) {
    for (int r = 0; r < 8; ++r) {
      asm volatile(
          "vpmaddubsw %%ymm15, %%ymm14, %%ymm0\n\tvpmaddubsw %%ymm15, %%ymm14, %%ymm1\n\t"
          "vpmaddubsw %%ymm15, %%ymm14, %%ymm2\n\tvpmaddubsw %%ymm15, %%ymm14, %%ymm3\n\t"
          "vpmaddubsw %%ymm15, %%ymm14, %%ymm4\n\tvpmaddubsw %%ymm15, %%ymm14, %%ymm5\n\t"
          "vpmaddubsw %%ymm15, %%ymm14, %%ymm6\n\tvpmaddubsw %%ymm15, %%ymm14, %%ymm7\n\t" ::
              : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7");
    }
  }
}

// The same products, each added into one of 8 running i16 sums (the kernels' pattern).
// clang-format off
#define ACCLLM_MADD_ADD(p, s) \
  "vpmaddubsw %%ymm15, %%ymm14, %%ymm" #p "\n\tvpaddw %%ymm" #p ", %%ymm" #s ", %%ymm" #s "\n\t"
void MaddubsAdd(int64_t calls) {
  for (int64_t i = 0; i < calls; ++i) {
    for (int r = 0; r < 8; ++r) {
      asm volatile(ACCLLM_MADD_ADD(0, 8) ACCLLM_MADD_ADD(1, 9) ACCLLM_MADD_ADD(2, 10)
                   ACCLLM_MADD_ADD(3, 11) ACCLLM_MADD_ADD(4, 12) ACCLLM_MADD_ADD(5, 13)
                   ACCLLM_MADD_ADD(6, 8) ACCLLM_MADD_ADD(7, 9)
                   ::: "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                       "xmm9", "xmm10", "xmm11", "xmm12", "xmm13");
    }
  }
}
#undef ACCLLM_MADD_ADD
// clang-format on

template <void (*kLoop)(int64_t)>
void BM_Maddubs(benchmark::State& state) {
  if (!__builtin_cpu_supports("avx2")) {
    state.SkipWithError("no AVX2 on this CPU");
    return;
  }
  ThreadPool pool(static_cast<int>(state.range(0)));
  constexpr int64_t kCalls = 1 << 16;  // per thread and iteration
  for (auto _ : state) {
    pool.ParallelFor(pool.size(), [](int64_t, int64_t, int) { kLoop(kCalls); });
  }
  const double products = 64.0 * 32 * kCalls * pool.size() * state.iterations();
  state.counters["GOP/s"] = benchmark::Counter(2 * products * 1e-9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Maddubs<MaddubsOnly>)
    ->Name("BM_MaddubsOnly")
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime();
BENCHMARK(BM_Maddubs<MaddubsAdd>)
    ->Name("BM_MaddubsThenAdd")
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime();
#endif  // __x86_64__

}  // namespace
}  // namespace accllm
