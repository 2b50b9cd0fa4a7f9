// The model's kernel threads, shared by every layer of one model. ThreadPool's
// ParallelFor is not reentrant, so a caller that finds the pool busy (another
// sequence's Forward on another thread) runs its kernel on its own thread
// instead of waiting.
#ifndef ACCLLM_WORKERS_ENGINE_SHARED_THREAD_POOL_H_
#define ACCLLM_WORKERS_ENGINE_SHARED_THREAD_POOL_H_

#include <mutex>

#include "workers/cpu/thread_pool.h"  // ThreadPool

namespace accllm {

struct SharedThreadPool {
  explicit SharedThreadPool(int threads) : pool(threads) {}
  ThreadPool pool;
  std::mutex busy;
};

// Calls kernel(ThreadPool*) with the shared pool when it is free, else with null (one thread).
template <typename Kernel>
void RunOnPool(SharedThreadPool* shared, Kernel&& kernel) {
  if (shared != nullptr && shared->pool.size() > 1) {
    std::unique_lock<std::mutex> lock(shared->busy, std::try_to_lock);
    if (lock.owns_lock()) {
      kernel(&shared->pool);
      return;
    }
  }
  kernel(nullptr);
}

}  // namespace accllm

#endif  // ACCLLM_WORKERS_ENGINE_SHARED_THREAD_POOL_H_
