#include "workers/cpu/prepared_a8.h"

#include <algorithm>
#include <cstring>

#include "workers/cpu/quantize_a8.h"  // QuantizeA8Row

namespace accllm {
namespace {

// Sizes p for n tokens, reusing its buffers' capacity; x4 is zeroed (its padding must be).
void Allocate(int64_t n, int64_t cols, int64_t group, PreparedA8& p) {
  p.n = n;
  p.chunks = (cols + 15) / 16;
  p.groups = (cols + group - 1) / group;
  p.scale.assign(n, 0.0f);
  p.x4.assign(n * p.chunks * 4, 0);
  p.group_sums.assign(n * p.groups, 0.0f);
}

void Fill(PreparedA8& p, int64_t i, const A8Vector& x, int64_t cols, int64_t group) {
  p.scale[i] = x.scale;
  const int64_t used = std::min<int64_t>(cols, static_cast<int64_t>(x.values.size()));
  std::memcpy(p.x4.data() + i * p.chunks * 4, x.values.data(), used);  // padding stays 0
  for (int64_t g = 0; g < p.groups; ++g) {
    int32_t sum = 0;
    for (int64_t c = g * group; c < std::min(used, (g + 1) * group); ++c) sum += x.values[c];
    p.group_sums[i * p.groups + g] = static_cast<float>(sum);
  }
}

// quad_x4 [q_begin, q_end) from x4.
void Interleave(PreparedA8& p, int64_t q_begin, int64_t q_end) {
  const int64_t words = p.chunks * 4;
  for (int64_t q = q_begin; q < q_end; ++q) {
    int32_t* out = p.quad_x4.data() + q * words * 4;
    for (int64_t k = 0; k < 4; ++k) {
      const int32_t* in = p.token_x4(4 * q + k);
      for (int64_t w = 0; w < words; ++w) out[w * 4 + k] = in[w];
    }
  }
}

}  // namespace

PreparedA8 PrepareA8(const A8Vector& x, int64_t cols, int64_t group) {
  PreparedA8 p;
  Allocate(1, cols, group, p);
  Fill(p, 0, x, cols, group);
  return p;
}

PreparedA8 QuantizePrepareA8(const float* x, int64_t n, int64_t cols, int64_t group) {
  PreparedA8 p;
  QuantizePrepareA8(x, n, cols, group, p);
  return p;
}

void QuantizePrepareA8(const float* x, int64_t n, int64_t cols, int64_t group, PreparedA8& p,
                       ThreadPool* pool) {
  Allocate(n, cols, group, p);
  p.quad_x4.resize(n / 4 * p.chunks * 16);
  // Ranges of quads (the last may be a ragged one), so each range interleaves its own.
  auto rows = [&](int64_t q_begin, int64_t q_end, int) {
    const int64_t end = std::min(n, q_end * 4);
    for (int64_t i = q_begin * 4; i < end; ++i) {
      // Straight into the kernel's buffer (padding stays 0), with QuantizeA8's bits.
      int8_t* values = reinterpret_cast<int8_t*>(p.x4.data() + i * p.chunks * 4);
      p.scale[i] = QuantizeA8Row(x + i * cols, cols, values);
      for (int64_t g = 0; g < p.groups; ++g) {
        int32_t sum = 0;
        for (int64_t c = g * group; c < std::min(cols, (g + 1) * group); ++c) sum += values[c];
        p.group_sums[i * p.groups + g] = static_cast<float>(sum);
      }
    }
    Interleave(p, q_begin, std::min(q_end, n / 4));
  };
  const int64_t ranges = (n + 3) / 4;
  if (pool != nullptr && n >= 32) {
    pool->ParallelForDynamic(ranges, rows, 2);
  } else {
    rows(0, ranges, 0);
  }
}

}  // namespace accllm
