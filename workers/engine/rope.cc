#include "workers/engine/rope.h"

#include <cmath>

namespace accllm {

Rope::Rope(int32_t head_dim, double theta) : head_dim_(head_dim), inv_freq_(head_dim / 2) {
  for (int32_t j = 0; j < head_dim / 2; ++j) {
    inv_freq_[j] = std::pow(theta, -2.0 * j / head_dim);
  }
}

void Rope::Apply(std::span<float> head, int64_t pos) const {
  const size_t half = inv_freq_.size();
  for (size_t j = 0; j < half; ++j) {
    const double angle = static_cast<double>(pos) * inv_freq_[j];
    const float c = static_cast<float>(std::cos(angle));
    const float s = static_cast<float>(std::sin(angle));
    const float a = head[j], b = head[j + half];
    head[j] = a * c - b * s;
    head[j + half] = a * s + b * c;
  }
}

void Rope::ApplyAll(std::span<float> heads, int64_t pos) const {
  for (size_t off = 0; off + head_dim_ <= heads.size(); off += head_dim_) {
    Apply(heads.subspan(off, head_dim_), pos);
  }
}

}  // namespace accllm
