#include "workers/cpu/memory_bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace accllm {

uint64_t SumWords(const uint64_t* p, int64_t n) {
  uint64_t a = 0, b = 0, c = 0, d = 0;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a += p[i];
    b += p[i + 1];
    c += p[i + 2];
    d += p[i + 3];
  }
  for (; i < n; ++i) a += p[i];
  return a + b + c + d;
}

BandwidthBuffer::BandwidthBuffer(int64_t bytes)
    : bytes_(std::max<int64_t>(64, bytes / 64 * 64)),
      words_(static_cast<uint64_t*>(std::aligned_alloc(64, bytes_))) {
  std::memset(words_, 1, bytes_);  // touch every page
}

BandwidthBuffer::~BandwidthBuffer() { std::free(words_); }

uint64_t BandwidthBuffer::ReadOnce(ThreadPool& pool) const {
  std::vector<uint64_t> sums(pool.size(), 0);
  pool.ParallelFor(
      bytes_ / 8, [&](int64_t b, int64_t e, int t) { sums[t] = SumWords(words_ + b, e - b); },
      4096);
  uint64_t total = 0;
  for (uint64_t s : sums) total += s;
  return total;
}

double MeasureReadBandwidth(ThreadPool& pool, int64_t bytes, int repeats) {
  const BandwidthBuffer buffer(bytes);
  return MeasureReadBandwidth(buffer, pool, repeats);
}

double MeasureReadBandwidth(const BandwidthBuffer& buffer, ThreadPool& pool, int repeats) {
  double best = 0.0;
  volatile uint64_t sink = 0;
  for (int i = 0; i < std::max(1, repeats); ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    sink = sink + buffer.ReadOnce(pool);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, static_cast<double>(buffer.bytes()) / s);
  }
  return best;
}

}  // namespace accllm
