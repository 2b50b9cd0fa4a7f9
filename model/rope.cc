#include "model/rope.h"

#include <cmath>

namespace accllm {

Rope::Rope(int32_t head_dim, double theta) : head_dim_(head_dim), inv_freq_(head_dim / 2) {
  for (int32_t j = 0; j < head_dim / 2; ++j) {
    inv_freq_[j] = std::pow(theta, -2.0 * j / head_dim);
  }
}

void Rope::Angles(int64_t pos, float* cos_out, float* sin_out) const {
  for (size_t j = 0; j < inv_freq_.size(); ++j) {
    const double angle = static_cast<double>(pos) * inv_freq_[j];
    cos_out[j] = static_cast<float>(std::cos(angle));
    sin_out[j] = static_cast<float>(std::sin(angle));
  }
}

void Rope::Rotate(std::span<float> head, const float* cos_in, const float* sin_in) const {
  const size_t half = inv_freq_.size();
  for (size_t j = 0; j < half; ++j) {
    const float c = cos_in[j], s = sin_in[j];
    const float a = head[j], b = head[j + half];
    head[j] = a * c - b * s;
    head[j + half] = a * s + b * c;
  }
}

void Rope::Apply(std::span<float> head, int64_t pos) const { ApplyAll(head, pos); }

void Rope::ApplyAll(std::span<float> heads, int64_t pos) const {
  // The angles once for every head (the same for all of them).
  std::vector<float> cs(inv_freq_.size() * 2);
  Angles(pos, cs.data(), cs.data() + inv_freq_.size());
  for (size_t off = 0; off + head_dim_ <= heads.size(); off += head_dim_) {
    Rotate(heads.subspan(off, head_dim_), cs.data(), cs.data() + inv_freq_.size());
  }
}

}  // namespace accllm
