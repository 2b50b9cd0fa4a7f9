// A fixed pool of threads for kernels. A job's work is claimed, not assigned:
// ParallelFor's parts (one contiguous range per thread: output rows for GEMV,
// tokens for prefill) and ParallelForDynamic's chunks are taken from a shared
// counter by whoever is there, the calling thread first. So the caller never
// waits for a worker that has not woken yet (the OS may have given its core to
// another process): it does that share itself, then waits only for workers
// already inside the job. Idle workers spin for a bounded time (a decode step
// issues ~150 kernels a few tens of µs apart), then sleep: an idle server burns
// no CPU.
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

  // Calls fn(begin, end, part) over size() disjoint ranges covering [0, n), ranges
  // aligned to `grain` (e.g. a SIMD width or a row block); `part` is the range's
  // number (0..size()-1), so per-part scratch never sees two calls at once. A
  // thread may run several parts. Returns when all are done. Not reentrant:
  // one call at a time per pool.
  void ParallelFor(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn,
                   int64_t grain = 1);
  // The same, but threads take chunks of `chunk` indices until none are left:
  // a thread the OS preempts delays the call by one chunk, not by a whole
  // share. The third argument is the thread's slot in this call (0..size()-1,
  // distinct among the threads running it); fn may run several times per slot.
  void ParallelForDynamic(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn,
                          int64_t chunk);

 private:
  void WorkerLoop();
  // Runs claimed work of the current job as participant `slot`.
  void Participate(int slot);
  void Run(int64_t n, const std::function<void(int64_t, int64_t, int)>& fn, int64_t grain,
           bool dynamic);

  std::vector<std::thread> workers_;
  // Sleeping workers wait on wake_ for job_id_ to change.
  std::mutex mu_;
  std::condition_variable wake_;
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  // Job publication: the caller writes the job while no worker is inside,
  // then opens it (state_ = id << 1 | 1); a worker counts itself in inside_
  // and then checks that the job it saw is still open; the caller closes it
  // and then waits for inside_ to drain (seq_cst on both sides, so one of
  // them sees the other).
  std::atomic<uint64_t> state_{0};
  std::atomic<int> inside_{0};
  std::atomic<int> slots_{0};  // workers' slots handed out in this job (caller is slot 0)
  // The current job, written only while no worker is inside.
  const std::function<void(int64_t, int64_t, int)>* fn_ = nullptr;
  int64_t n_ = 0;
  int64_t grain_ = 1;
  bool dynamic_ = false;
  std::atomic<int64_t> next_{0};  // the next part (static) or first index (dynamic) to claim
};

// Runs fn over [0, n) tiles: inline when `pool` is null, else in a few dynamic
// chunks per thread (balanced when another process takes a core for a while).
void ForEachTile(ThreadPool* pool, int64_t n,
                 const std::function<void(int64_t, int64_t, int)>& fn);

}  // namespace accllm

#endif  // ACCLLM_WORKERS_CPU_THREAD_POOL_H_
