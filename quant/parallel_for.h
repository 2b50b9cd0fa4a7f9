// A small fork-join loop for the quantization tooling (quant/ sits below workers/cpu and its
// thread pool): items are handed out one at a time, so uneven items balance themselves.
#ifndef ACCLLM_QUANT_PARALLEL_FOR_H_
#define ACCLLM_QUANT_PARALLEL_FOR_H_

#include <cstdint>
#include <functional>

namespace accllm {

// Calls fn(i) for every i in [0, n) on up to `threads` threads (the caller's included; 0: one
// per hardware thread) and returns when all are done. fn must not throw.
void ParallelFor(int64_t n, int threads, const std::function<void(int64_t)>& fn);

}  // namespace accllm

#endif  // ACCLLM_QUANT_PARALLEL_FOR_H_
