// Normalized Walsh-Hadamard transforms: the fixed rotation applied to KV4/KV8 keys (and their
// queries) and the default rotation for incoherence processing.
//
// For n a power of two, H_n[i][j] = (-1)^popcount(i & j) / sqrt(n) (Sylvester order): symmetric
// and orthogonal, so it is its own inverse. For other n, the block-diagonal transform over the
// greedy power-of-two decomposition of n, largest block first (e.g. 172 = 128 + 32 + 8 + 4);
// a trailing block of 1 is the identity.
#ifndef ACCLLM_QUANT_HADAMARD_H_
#define ACCLLM_QUANT_HADAMARD_H_

#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

namespace accllm {

inline bool IsPowerOfTwo(int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

// Block sizes of the transform for length n (one block when n is a power of two).
std::vector<int64_t> HadamardBlocks(int64_t n);

// x [n] <- H x in place, O(n log n). Self-inverse: applying it twice gives x back. Inline and
// plain C++: the FPGA kernels (which Vitis compiles without the project's libraries) rotate
// KV4 keys with this same definition.
inline void HadamardTransformInPlace(float* x, int64_t n) {
  for (int64_t offset = 0; offset < n;) {
    int64_t b = 1;  // the largest power of two that fits (HadamardBlocks' greedy order)
    while (b * 2 <= n - offset) b *= 2;
    float* v = x + offset;
    for (int64_t h = 1; h < b; h *= 2) {
      for (int64_t i = 0; i < b; i += 2 * h) {
        for (int64_t j = i; j < i + h; ++j) {
          const float a = v[j];
          const float c = v[j + h];
          v[j] = a + c;
          v[j + h] = a - c;
        }
      }
    }
    const float norm = 1.0f / std::sqrt(static_cast<float>(b));
    for (int64_t i = 0; i < b; ++i) v[i] *= norm;
    offset += b;
  }
}

inline void HadamardTransform(std::span<float> x) {
  HadamardTransformInPlace(x.data(), static_cast<int64_t>(x.size()));
}

}  // namespace accllm

#endif  // ACCLLM_QUANT_HADAMARD_H_
