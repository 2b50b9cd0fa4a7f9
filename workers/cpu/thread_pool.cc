#include "workers/cpu/thread_pool.h"

#include <algorithm>

namespace accllm {

namespace {
// A decode step issues ~150 small kernels, a few tens of µs apart: workers first spin on a
// CPU pause (no system call: sched_yield in a VM costs more than the wait), then yield for
// a while, then sleep.
constexpr int kPauseIterations = 4000;  // ~100 µs
constexpr int kYieldIterations = 2000;

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}
}  // namespace

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::RunShare(int index) {
  if (dynamic_) {
    for (int64_t b = next_.fetch_add(grain_, std::memory_order_relaxed); b < n_;
         b = next_.fetch_add(grain_, std::memory_order_relaxed)) {
      (*fn_)(b, std::min(n_, b + grain_), index);
    }
    return;
  }
  const int parts = size();
  const int64_t blocks = (n_ + grain_ - 1) / grain_;
  const int64_t begin_block = blocks * index / parts;
  const int64_t end_block = blocks * (index + 1) / parts;
  const int64_t begin = std::min(n_, begin_block * grain_);
  const int64_t end = std::min(n_, end_block * grain_);
  if (begin < end) (*fn_)(begin, end, index);
}

void ThreadPool::WorkerLoop(int index) {
  uint64_t seen = 0;
  while (true) {
    uint64_t gen = generation_.load(std::memory_order_acquire);
    for (int spin = 0; gen == seen && spin < kPauseIterations; ++spin) {
      CpuRelax();
      gen = generation_.load(std::memory_order_acquire);
    }
    for (int spin = 0; gen == seen && spin < kYieldIterations; ++spin) {
      std::this_thread::yield();
      gen = generation_.load(std::memory_order_acquire);
    }
    if (gen == seen) {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != seen; });
      gen = generation_.load(std::memory_order_acquire);
    }
    seen = gen;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    RunShare(index);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::ParallelFor(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn,
                             int64_t grain) {
  Run(n, fn, grain, false);
}

void ThreadPool::ParallelForDynamic(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn,
                                    int64_t chunk) {
  Run(n, fn, chunk, true);
}

void ThreadPool::Run(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn, int64_t grain,
                     bool dynamic) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  if (workers_.empty() || n <= grain) {
    fn(0, n, 0);
    return;
  }
  fn_ = &fn;
  n_ = n;
  grain_ = grain;
  dynamic_ = dynamic;
  next_.store(0, std::memory_order_relaxed);
  pending_.store(static_cast<int>(workers_.size()), std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mu_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  wake_.notify_all();
  RunShare(0);
  for (int spin = 0; pending_.load(std::memory_order_acquire) != 0; ++spin) {
    if (spin < kPauseIterations) {
      CpuRelax();
    } else {
      std::this_thread::yield();
    }
  }
  fn_ = nullptr;
}

void ForEachTile(ThreadPool* pool, int64_t n,
                 const std::function<void(int64_t, int64_t, int)>& fn) {
  if (pool == nullptr) {
    fn(0, n, 0);
    return;
  }
  pool->ParallelForDynamic(n, fn, std::max<int64_t>(1, n / (16 * pool->size())));
}

}  // namespace accllm
