#include "workers/cpu/prepared_a8.h"

#include <algorithm>
#include <cstring>

#include "workers/cpu/quantize_a8.h"  // QuantizeA8Row

namespace accllm {
namespace {

PreparedA8 Allocate(int64_t n, int64_t cols, int64_t group) {
  PreparedA8 p;
  p.n = n;
  p.chunks = (cols + 15) / 16;
  p.groups = (cols + group - 1) / group;
  p.scale.assign(n, 0.0f);
  p.x4.assign(n * p.chunks * 4, 0);
  p.group_sums.assign(n * p.groups, 0.0f);
  return p;
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

// quad_x4 from x4.
void Interleave(PreparedA8& p) {
  const int64_t words = p.chunks * 4, quads = p.n / 4;
  p.quad_x4.resize(quads * words * 4);
  for (int64_t q = 0; q < quads; ++q) {
    int32_t* out = p.quad_x4.data() + q * words * 4;
    for (int64_t k = 0; k < 4; ++k) {
      const int32_t* in = p.token_x4(4 * q + k);
      for (int64_t w = 0; w < words; ++w) out[w * 4 + k] = in[w];
    }
  }
}

}  // namespace

PreparedA8 PrepareA8(const A8Vector& x, int64_t cols, int64_t group) {
  PreparedA8 p = Allocate(1, cols, group);
  Fill(p, 0, x, cols, group);
  return p;
}

PreparedA8 QuantizePrepareA8(const float* x, int64_t n, int64_t cols, int64_t group) {
  PreparedA8 p = Allocate(n, cols, group);
  for (int64_t i = 0; i < n; ++i) {
    // Straight into the kernel's buffer (padding stays 0), with QuantizeA8's bits.
    int8_t* values = reinterpret_cast<int8_t*>(p.x4.data() + i * p.chunks * 4);
    p.scale[i] = QuantizeA8Row(x + i * cols, cols, values);
    for (int64_t g = 0; g < p.groups; ++g) {
      int32_t sum = 0;
      for (int64_t c = g * group; c < std::min(cols, (g + 1) * group); ++c) sum += values[c];
      p.group_sums[i * p.groups + g] = static_cast<float>(sum);
    }
  }
  Interleave(p);
  return p;
}

}  // namespace accllm
