// 2:4 semi-structured sparsity: in every block of 4 consecutive input columns of a row exactly
// two weights are kept. Masks are 4-bit (bit i = column 4k + i kept); see weight_format.h for how
// they are packed. Selection is by a per-weight score, top two of each block.
#ifndef ACCLLM_QUANT_SPARSE24_H_
#define ACCLLM_QUANT_SPARSE24_H_

#include <cstdint>
#include <span>
#include <vector>

namespace accllm {

// Exactly two of the four low bits set, high bits clear.
bool IsValid24Mask(uint8_t nibble);

// The kept-column mask of one block from the scores of its 4 weights: the two highest win,
// ties go to the lower column (so the choice is deterministic).
uint8_t Select24(std::span<const float> scores4);

// keep [rows, cols] (1 = kept) from scores [rows, cols]; cols % 4 == 0.
std::vector<uint8_t> Select24Mask(std::span<const float> scores, int64_t rows, int64_t cols);

// Per input feature L2 norm over the calibration samples: x [samples, cols] -> [cols].
std::vector<float> InputFeatureNorms(std::span<const float> x, int64_t samples, int64_t cols);

// Wanda (Sun et al. 2023): score |W_ij| * ||x_j||, top two of each block of four per row.
// w [rows, cols], input_norms [cols] -> keep [rows, cols].
std::vector<uint8_t> WandaMask24(std::span<const float> w, int64_t rows, int64_t cols,
                                 std::span<const float> input_norms);

// True when every block of 4 of every row of keep [rows, cols] keeps exactly two.
bool Is24Pattern(std::span<const uint8_t> keep, int64_t rows, int64_t cols);

}  // namespace accllm

#endif  // ACCLLM_QUANT_SPARSE24_H_
