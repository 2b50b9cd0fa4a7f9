// A linear layer y = W x as the decoder sees it, however W is stored: float
// (F32/F16/BF16), or quantized (W2/W4/W8, dense or 2:4, with A8 or float
// activations). The decoder layers only call Apply / ApplyBatch.
#ifndef ACCLLM_WORKERS_ENGINE_LINEAR_H_
#define ACCLLM_WORKERS_ENGINE_LINEAR_H_

#include <cstdint>
#include <span>

namespace accllm {

class Linear {
 public:
  virtual ~Linear() = default;
  virtual int64_t rows() const = 0;  // output features
  virtual int64_t cols() const = 0;  // input features
  // x: [cols] → y: [rows].
  virtual void Apply(std::span<const float> x, std::span<float> y) const = 0;
  // n tokens at once, x: [n, cols] → y: [n, rows]; row i equals Apply(x_i) bit for bit.
  // Layers that stream their weights override it to read them once for all n tokens.
  virtual void ApplyBatch(const float* x, int64_t n, float* y) const {
    for (int64_t i = 0; i < n; ++i) {
      Apply({x + i * cols(), static_cast<size_t>(cols())},
            {y + i * rows(), static_cast<size_t>(rows())});
    }
  }
  // Bytes of weights one Apply / ApplyBatch reads (what a decode step streams).
  virtual int64_t weight_bytes() const = 0;
};

}  // namespace accllm

#endif  // ACCLLM_WORKERS_ENGINE_LINEAR_H_
