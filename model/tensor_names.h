// Tensor names of a Llama-family model, as Hugging Face's LlamaForCausalLM
// stores them: our model directories are HF directories.
#ifndef ACCLLM_MODEL_TENSOR_NAMES_H_
#define ACCLLM_MODEL_TENSOR_NAMES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "model/config.h"  // ModelConfig

namespace accllm {

// The linear layers of one decoder layer, in a fixed order.
enum class LayerLinear { kQ, kK, kV, kO, kGate, kUp, kDown };
inline constexpr LayerLinear kAllLayerLinears[] = {
    LayerLinear::kQ,    LayerLinear::kK,  LayerLinear::kV,   LayerLinear::kO,
    LayerLinear::kGate, LayerLinear::kUp, LayerLinear::kDown};

inline constexpr char kEmbeddingName[] = "model.embed_tokens.weight";
inline constexpr char kFinalNormName[] = "model.norm.weight";
inline constexpr char kLmHeadName[] = "lm_head.weight";

std::string LinearName(int layer, LayerLinear linear);  // model.layers.3.self_attn.q_proj.weight
std::string AttnNormName(int layer);                     // ...input_layernorm.weight
std::string FfnNormName(int layer);                      // ...post_attention_layernorm.weight

// [rows = out features, cols = in features] of a linear layer.
struct MatrixShape {
  int64_t rows = 0;
  int64_t cols = 0;
};
MatrixShape LinearShape(const ModelConfig& config, LayerLinear linear);

// Every tensor a float model of this config has, with its shape.
struct ExpectedTensor {
  std::string name;
  std::vector<int64_t> shape;
};
std::vector<ExpectedTensor> ExpectedTensors(const ModelConfig& config);

}  // namespace accllm

#endif  // ACCLLM_MODEL_TENSOR_NAMES_H_
