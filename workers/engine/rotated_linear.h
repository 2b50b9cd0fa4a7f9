// Online input rotation (QuaRot/SpinQuant) where it cannot be folded into the
// producer of x: the stored weight is W' = W Q^T and y = W' (Q x).
#ifndef ACCLLM_WORKERS_ENGINE_ROTATED_LINEAR_H_
#define ACCLLM_WORKERS_ENGINE_ROTATED_LINEAR_H_

#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "quant/rotation.h"         // Rotation
#include "workers/engine/linear.h"  // Linear

namespace accllm {

class RotatedLinear : public Linear {
 public:
  RotatedLinear(Rotation q, std::shared_ptr<const Linear> inner)
      : q_(std::move(q)), inner_(std::move(inner)) {}

  int64_t rows() const override { return inner_->rows(); }
  int64_t cols() const override { return inner_->cols(); }
  void Apply(std::span<const float> x, std::span<float> y) const override {
    std::vector<float> rotated(x.begin(), x.end());
    q_.Apply(rotated);
    inner_->Apply(rotated, y);
  }
  void ApplyBatch(const float* x, int64_t n, float* y) const override {
    thread_local std::vector<float> rotated;  // reused: megabytes for a prefill chunk
    rotated.assign(x, x + n * cols());
    for (int64_t i = 0; i < n; ++i) q_.Apply({rotated.data() + i * cols(), size_t(cols())});
    inner_->ApplyBatch(rotated.data(), n, y);
  }
  int64_t weight_bytes() const override { return inner_->weight_bytes(); }
  const Linear& inner() const { return *inner_; }

 private:
  Rotation q_;
  std::shared_ptr<const Linear> inner_;
};

}  // namespace accllm

#endif  // ACCLLM_WORKERS_ENGINE_ROTATED_LINEAR_H_
