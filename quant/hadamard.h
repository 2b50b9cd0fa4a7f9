// Normalized Walsh-Hadamard transforms: the fixed rotation applied to KV4/KV8 keys (and their
// queries) and the default rotation for incoherence processing.
//
// For n a power of two, H_n[i][j] = (-1)^popcount(i & j) / sqrt(n) (Sylvester order): symmetric
// and orthogonal, so it is its own inverse. For other n, the block-diagonal transform over the
// greedy power-of-two decomposition of n, largest block first (e.g. 172 = 128 + 32 + 8 + 4);
// a trailing block of 1 is the identity.
#ifndef ACCLLM_QUANT_HADAMARD_H_
#define ACCLLM_QUANT_HADAMARD_H_

#include <cstdint>
#include <span>
#include <vector>

namespace accllm {

inline bool IsPowerOfTwo(int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

// Block sizes of the transform for length n (one block when n is a power of two).
std::vector<int64_t> HadamardBlocks(int64_t n);

// x <- H x in place, O(n log n). Self-inverse: applying it twice gives x back.
void HadamardTransform(std::span<float> x);

}  // namespace accllm

#endif  // ACCLLM_QUANT_HADAMARD_H_
