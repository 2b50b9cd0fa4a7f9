// Read bandwidth of this machine's memory: the roofline a 2-bit model's decode
// is measured against (each decode step streams every weight once). Shared by
// bench/memory_bandwidth_bench and `accllm bench-engine`, so both report the
// same number.
#ifndef ACCLLM_WORKERS_CPU_MEMORY_BANDWIDTH_H_
#define ACCLLM_WORKERS_CPU_MEMORY_BANDWIDTH_H_

#include <cstdint>

#include "workers/cpu/thread_pool.h"  // ThreadPool

namespace accllm {

// Sums n 64-bit words with independent accumulators (enough loads in flight
// that the loop is bound by memory, not by the adds).
uint64_t SumWords(const uint64_t* p, int64_t n);

// A buffer far larger than the caches, touched once so its pages exist.
class BandwidthBuffer {
 public:
  explicit BandwidthBuffer(int64_t bytes);
  ~BandwidthBuffer();
  BandwidthBuffer(const BandwidthBuffer&) = delete;
  BandwidthBuffer& operator=(const BandwidthBuffer&) = delete;

  int64_t bytes() const { return bytes_; }
  // Reads the whole buffer once, split over the pool's threads; returns a
  // checksum (so the reads cannot be optimized away).
  uint64_t ReadOnce(ThreadPool& pool) const;

 private:
  int64_t bytes_;
  uint64_t* words_;
};

// Best of `repeats` full reads of a `bytes` buffer with `pool`'s threads, in bytes/s.
double MeasureReadBandwidth(ThreadPool& pool, int64_t bytes = int64_t{1} << 30, int repeats = 5);
// The same over an existing buffer (measured more than once in a run).
double MeasureReadBandwidth(const BandwidthBuffer& buffer, ThreadPool& pool, int repeats);

}  // namespace accllm

#endif  // ACCLLM_WORKERS_CPU_MEMORY_BANDWIDTH_H_
