#include "quant/sparse24.h"

#include <cmath>  // std::fabs, std::sqrt

namespace accllm {

bool IsValid24Mask(uint8_t nibble) {
  // Bit k of the constant: nibble k keeps exactly two (0b0011, 0b0101, 0b0110, 0b1001,
  // 0b1010, 0b1100). A table, not popcount: without -mpopcnt that is a library call, and a
  // model's load checks every block.
  constexpr uint16_t kTwoOfFour = 0x1668;
  return nibble < 16 && ((kTwoOfFour >> nibble) & 1);
}

uint8_t Select24(std::span<const float> s) {
  // Index of the best, then the best of the rest; strict '>' keeps the lower index on ties.
  int first = 0;
  for (int i = 1; i < 4; ++i) {
    if (s[i] > s[first]) first = i;
  }
  int second = first == 0 ? 1 : 0;
  for (int i = 0; i < 4; ++i) {
    if (i != first && s[i] > s[second]) second = i;
  }
  return static_cast<uint8_t>((1u << first) | (1u << second));
}

std::vector<uint8_t> Select24Mask(std::span<const float> scores, int64_t rows, int64_t cols) {
  std::vector<uint8_t> keep(static_cast<size_t>(rows * cols), 0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c + 4 <= cols; c += 4) {
      const uint8_t m = Select24(scores.subspan(static_cast<size_t>(r * cols + c), 4));
      for (int i = 0; i < 4; ++i) keep[static_cast<size_t>(r * cols + c + i)] = (m >> i) & 1;
    }
  }
  return keep;
}

std::vector<float> InputFeatureNorms(std::span<const float> x, int64_t samples, int64_t cols) {
  std::vector<double> sq(static_cast<size_t>(cols), 0.0);
  for (int64_t n = 0; n < samples; ++n) {
    for (int64_t c = 0; c < cols; ++c) {
      const double v = x[static_cast<size_t>(n * cols + c)];
      sq[static_cast<size_t>(c)] += v * v;
    }
  }
  std::vector<float> norms(static_cast<size_t>(cols));
  for (size_t c = 0; c < norms.size(); ++c) norms[c] = static_cast<float>(std::sqrt(sq[c]));
  return norms;
}

std::vector<uint8_t> WandaMask24(std::span<const float> w, int64_t rows, int64_t cols,
                                 std::span<const float> input_norms) {
  std::vector<float> scores(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      const size_t i = static_cast<size_t>(r * cols + c);
      scores[i] = std::fabs(w[i]) * input_norms[static_cast<size_t>(c)];
    }
  }
  return Select24Mask(scores, rows, cols);
}

bool Is24Pattern(std::span<const uint8_t> keep, int64_t rows, int64_t cols) {
  if (cols % 4 != 0 || keep.size() != static_cast<size_t>(rows * cols)) return false;
  for (size_t b = 0; b < keep.size(); b += 4) {
    if ((keep[b] != 0) + (keep[b + 1] != 0) + (keep[b + 2] != 0) + (keep[b + 3] != 0) != 2) {
      return false;
    }
  }
  return true;
}

}  // namespace accllm
