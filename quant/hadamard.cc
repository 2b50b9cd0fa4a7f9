#include "quant/hadamard.h"

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

}  // namespace accllm
