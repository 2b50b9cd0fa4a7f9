#include "workers/cpu/gemm_group.h"

#include <algorithm>
#include <vector>

#include "workers/cpu/gemm_a8.h"           // GemmA8TileRange
#include "workers/cpu/gemm_a8_sparse24.h"  // GemmA8Sparse24TileRange

namespace accllm {

void GemmA8Group(std::span<const GemmJob> jobs, const PreparedA8& x, ThreadPool* pool) {
  int64_t total = 0;
  // The 2:4 layers' x + 128, once for all of them (they read the same x).
  thread_local std::vector<uint8_t> biased;  // reused: no page faults per call
  biased.clear();
  for (const GemmJob& j : jobs) {
    total += j.tiles();
    if (j.sparse != nullptr && biased.empty()) BiasActivations(*j.sparse, x, biased);
  }
  // A span, not the thread_local itself: inside the lambda that name would be each kernel
  // thread's own (empty) vector.
  const std::span<const uint8_t> shared_biased(biased);
  // A range of the concatenated tiles → each job's part of it.
  ForEachTile(pool, total, [&](int64_t begin, int64_t end, int) {
    int64_t first = 0;  // the job's first tile in the concatenation
    for (const GemmJob& j : jobs) {
      const int64_t b = std::max(begin, first), e = std::min(end, first + j.tiles());
      if (b < e) {
        if (j.dense != nullptr) {
          GemmA8TileRange(*j.dense, x, b - first, e - first, j.y);
        } else {
          GemmA8Sparse24TileRange(*j.sparse, x, shared_biased, b - first, e - first, j.y);
        }
      }
      first += j.tiles();
    }
  });
}

}  // namespace accllm
