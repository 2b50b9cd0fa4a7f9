#include "model/tensor_names.h"

#include "absl/strings/str_cat.h"  // absl::StrCat

namespace accllm {

std::string LinearName(int layer, LayerLinear linear) {
  const char* suffix = "";
  switch (linear) {
    case LayerLinear::kQ: suffix = "self_attn.q_proj"; break;
    case LayerLinear::kK: suffix = "self_attn.k_proj"; break;
    case LayerLinear::kV: suffix = "self_attn.v_proj"; break;
    case LayerLinear::kO: suffix = "self_attn.o_proj"; break;
    case LayerLinear::kGate: suffix = "mlp.gate_proj"; break;
    case LayerLinear::kUp: suffix = "mlp.up_proj"; break;
    case LayerLinear::kDown: suffix = "mlp.down_proj"; break;
  }
  return absl::StrCat("model.layers.", layer, ".", suffix, ".weight");
}

std::string AttnNormName(int layer) {
  return absl::StrCat("model.layers.", layer, ".input_layernorm.weight");
}
std::string FfnNormName(int layer) {
  return absl::StrCat("model.layers.", layer, ".post_attention_layernorm.weight");
}

MatrixShape LinearShape(const ModelConfig& c, LayerLinear linear) {
  switch (linear) {
    case LayerLinear::kQ: return {c.dim, c.dim};
    case LayerLinear::kK:
    case LayerLinear::kV: return {c.kv_dim(), c.dim};
    case LayerLinear::kO: return {c.dim, c.dim};
    case LayerLinear::kGate:
    case LayerLinear::kUp: return {c.hidden_dim, c.dim};
    case LayerLinear::kDown: return {c.dim, c.hidden_dim};
  }
  return {};
}

std::vector<ExpectedTensor> ExpectedTensors(const ModelConfig& c) {
  std::vector<ExpectedTensor> out;
  out.push_back({kEmbeddingName, {c.vocab_size, c.dim}});
  for (int l = 0; l < c.n_layers; ++l) {
    out.push_back({AttnNormName(l), {c.dim}});
    for (LayerLinear linear : kAllLayerLinears) {
      const MatrixShape s = LinearShape(c, linear);
      out.push_back({LinearName(l, linear), {s.rows, s.cols}});
    }
    out.push_back({FfnNormName(l), {c.dim}});
  }
  out.push_back({kFinalNormName, {c.dim}});
  if (!c.tie_embeddings) out.push_back({kLmHeadName, {c.vocab_size, c.dim}});
  return out;
}

}  // namespace accllm
