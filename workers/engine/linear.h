// A linear layer y = W x as the decoder sees it, however W is stored: float
// (F32/F16/BF16), or quantized (W2/W4/W8, dense or 2:4, with A8 or float
// activations). The decoder layers only call Apply.
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
};

}  // namespace accllm

#endif  // ACCLLM_WORKERS_ENGINE_LINEAR_H_
