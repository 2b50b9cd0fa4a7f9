#include "quant/hadamard.h"

#include <cmath>  // std::sqrt

namespace accllm {

std::vector<int64_t> HadamardBlocks(int64_t n) {
  std::vector<int64_t> blocks;
  while (n > 0) {
    int64_t b = 1;
    while (b * 2 <= n) b *= 2;
    blocks.push_back(b);
    n -= b;
  }
  return blocks;
}

void HadamardTransform(std::span<float> x) {
  size_t offset = 0;
  for (int64_t b : HadamardBlocks(static_cast<int64_t>(x.size()))) {
    float* v = x.data() + offset;
    const size_t n = static_cast<size_t>(b);
    for (size_t h = 1; h < n; h *= 2) {
      for (size_t i = 0; i < n; i += 2 * h) {
        for (size_t j = i; j < i + h; ++j) {
          const float a = v[j];
          const float c = v[j + h];
          v[j] = a + c;
          v[j + h] = a - c;
        }
      }
    }
    const float norm = 1.0f / std::sqrt(static_cast<float>(n));
    for (size_t i = 0; i < n; ++i) v[i] *= norm;
    offset += n;
  }
}

}  // namespace accllm
