// Rotary position embedding, Hugging Face's half-split convention: pair j of a
// head is (v[j], v[j + head_dim/2]). Angles are computed in double precision so
// positions in the millions stay exact.
#ifndef ACCLLM_MODEL_ROPE_H_
#define ACCLLM_MODEL_ROPE_H_

#include <cstdint>
#include <span>
#include <vector>

namespace accllm {

class Rope {
 public:
  Rope() = default;
  Rope(int32_t head_dim, double theta);

  int32_t head_dim() const { return head_dim_; }
  // Rotates one head vector [head_dim] in place to position `pos`.
  void Apply(std::span<float> head, int64_t pos) const;
  // Rotates every head of `heads` [n * head_dim] in place.
  void ApplyAll(std::span<float> heads, int64_t pos) const;
  // cos/sin of each pair's angle at `pos`: [head_dim / 2] each. A row [head_dim] of cos then
  // sin is the table row the FPGA card's kernels apply (the host computes them).
  void Angles(int64_t pos, float* cos_out, float* sin_out) const;
  void Row(int64_t pos, float* row) const { Angles(pos, row, row + head_dim_ / 2); }

 private:
  int32_t head_dim_ = 0;
  void Rotate(std::span<float> head, const float* cos_in, const float* sin_in) const;

  std::vector<double> inv_freq_;  // [head_dim / 2]: theta^(-2j / head_dim)
};

}  // namespace accllm

#endif  // ACCLLM_MODEL_ROPE_H_
