// A tap on the inputs of a decoder's linear layers, for calibration: `accllm quantize` records
// what each linear sees on real text (to build GPTQ's Hessian and held-out error sets) without
// the forward pass knowing anything about quantization.
#ifndef ACCLLM_WORKERS_ENGINE_ACTIVATION_OBSERVER_H_
#define ACCLLM_WORKERS_ENGINE_ACTIVATION_OBSERVER_H_

#include <cstdint>
#include <span>

#include "model/tensor_names.h"  // LayerLinear

namespace accllm {

class ActivationObserver {
 public:
  virtual ~ActivationObserver() = default;
  // Called by LlamaModel::Forward with the input x [cols] of linear `linear` of decoder layer
  // `layer`, right before it is applied. q/k/v (and gate/up) share one input and are each
  // reported. `x` is only valid during the call.
  virtual void Observe(int32_t layer, LayerLinear linear, std::span<const float> x) = 0;
};

}  // namespace accllm

#endif  // ACCLLM_WORKERS_ENGINE_ACTIVATION_OBSERVER_H_
