// A fixed pool of threads for kernels: ParallelFor splits [0, n) into one
// contiguous range per thread (output rows for GEMV, tokens for prefill); the
// calling thread takes a share too. Dispatch is a generation counter the
// workers spin on briefly before sleeping, so per-call overhead stays in the
// microseconds a decode step of many small GEMVs needs.
#ifndef ACCLLM_WORKERS_CPU_THREAD_POOL_H_
#define ACCLLM_WORKERS_CPU_THREAD_POOL_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace accllm {

class ThreadPool {
 public:
  // `threads` in total, the caller included; 0 means all hardware threads.
  explicit ThreadPool(int threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end, thread_index) over disjoint ranges covering [0, n),
  // ranges aligned to `grain` (e.g. a SIMD width or a row block). Returns when
  // all are done. Not reentrant: one ParallelFor at a time per pool.
  void ParallelFor(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn,
                   int64_t grain = 1);
  // The same, but threads take chunks of `chunk` indices from a shared counter until none
  // are left: a thread the OS preempts (other processes share the cores) delays the call by
  // one chunk, not by its whole static share. fn may run several times per thread.
  void ParallelForDynamic(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn,
                          int64_t chunk);

 private:
  void WorkerLoop(int index);
  void RunShare(int index);
  void Run(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn, int64_t grain,
           bool dynamic);

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  bool stop_ = false;
  // The current job, valid while pending_ > 0.
  const std::function<void(int64_t, int64_t, int)>* fn_ = nullptr;
  int64_t n_ = 0;
  int64_t grain_ = 1;
  bool dynamic_ = false;
  std::atomic<int64_t> next_{0};  // dynamic: the first index not yet taken
};

// Runs fn over [0, n) tiles: inline when `pool` is null, else in a few dynamic
// chunks per thread (balanced when another process takes a core for a while).
void ForEachTile(ThreadPool* pool, int64_t n,
                 const std::function<void(int64_t, int64_t, int)>& fn);

}  // namespace accllm

#endif  // ACCLLM_WORKERS_CPU_THREAD_POOL_H_
