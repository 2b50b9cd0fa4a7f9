#include "workers/cpu/thread_pool.h"

#include <algorithm>
#include <chrono>

namespace accllm {

namespace {
// How long an idle worker spins for the next job before it sleeps: longer
// than the gaps between a decode step's kernels, short enough that an idle
// server's workers are asleep at once. Measured by the clock, not in
// iterations (a pause costs 10-140 cycles depending on the CPU).
constexpr std::chrono::microseconds kSpin(300);

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// state_ packs the job id and whether it is open, so a worker never pairs
// one job's id with another's open flag.
constexpr uint64_t Open(uint64_t id) { return (id << 1) | 1; }
constexpr uint64_t Closed(uint64_t id) { return id << 1; }
constexpr uint64_t IdOf(uint64_t state) { return state >> 1; }
constexpr bool IsOpen(uint64_t state) { return (state & 1) != 0; }
}  // namespace

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  { std::lock_guard<std::mutex> lock(mu_); }  // a worker deciding to sleep has checked stop_
  wake_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::Participate(int slot) {
  if (dynamic_) {
    for (int64_t b = next_.fetch_add(grain_, std::memory_order_relaxed); b < n_;
         b = next_.fetch_add(grain_, std::memory_order_relaxed)) {
      (*fn_)(b, std::min(n_, b + grain_), slot);
    }
    return;
  }
  const int parts = size();
  const int64_t blocks = (n_ + grain_ - 1) / grain_;
  for (int64_t part = next_.fetch_add(1, std::memory_order_relaxed); part < parts;
       part = next_.fetch_add(1, std::memory_order_relaxed)) {
    const int64_t begin = std::min(n_, blocks * part / parts * grain_);
    const int64_t end = std::min(n_, blocks * (part + 1) / parts * grain_);
    if (begin < end) (*fn_)(begin, end, static_cast<int>(part));
  }
}

void ThreadPool::WorkerLoop() {
  uint64_t done = 0;  // the newest job id this worker has seen
  while (true) {
    uint64_t state = state_.load();
    if (IdOf(state) == done) {
      const auto until = std::chrono::steady_clock::now() + kSpin;
      for (int spin = 1; IdOf(state) == done && !stop_.load(std::memory_order_relaxed); ++spin) {
        CpuRelax();
        if (spin % 64 == 0 && std::chrono::steady_clock::now() >= until) break;
        state = state_.load();
      }
      if (IdOf(state) == done && !stop_.load()) {
        std::unique_lock<std::mutex> lock(mu_);
        sleepers_.fetch_add(1);
        wake_.wait(lock, [&] { return stop_.load() || IdOf(state_.load()) != done; });
        sleepers_.fetch_sub(1);
        state = state_.load();
      }
    }
    if (stop_.load()) return;
    done = IdOf(state);
    // Count in, then look: the caller closes, then waits for inside_ to drain.
    inside_.fetch_add(1);
    if (state_.load() == Open(done)) Participate(slots_.fetch_add(1) + 1);
    inside_.fetch_sub(1, std::memory_order_release);
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
  // No worker is inside (the last call drained them), so the job is ours to write.
  fn_ = &fn;
  n_ = n;
  grain_ = grain;
  dynamic_ = dynamic;
  next_.store(0, std::memory_order_relaxed);
  slots_.store(0, std::memory_order_relaxed);
  const uint64_t id = IdOf(state_.load(std::memory_order_relaxed)) + 1;
  state_.store(Open(id));
  if (sleepers_.load() > 0) {
    { std::lock_guard<std::mutex> lock(mu_); }
    wake_.notify_all();
  }
  Participate(0);
  // Whatever no worker claimed is done; wait only for workers still inside.
  state_.store(Closed(id));
  for (int spin = 0; inside_.load() != 0; ++spin) {
    if (spin < 4096) {
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
