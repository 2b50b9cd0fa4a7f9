#include "workers/engine/llama_model.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"  // absl::StrCat
#include "model/tensor_names.h"    // LinearName, ...

namespace accllm {

void RmsNorm(std::span<const float> x, std::span<const float> weight, float eps,
             std::span<float> out) {
  float ss = 0.0f;
  for (float v : x) ss += v * v;
  const float scale = 1.0f / std::sqrt(ss / static_cast<float>(x.size()) + eps);
  for (size_t i = 0; i < x.size(); ++i) out[i] = weight[i] * (scale * x[i]);
}

absl::StatusOr<std::unique_ptr<LlamaModel>> LlamaModel::Load(const ModelDir& dir) {
  auto model = std::unique_ptr<LlamaModel>(new LlamaModel());
  model->config_ = dir.config;
  model->tensors_ = dir.tensors;
  const ModelConfig& c = model->config_;
  if (absl::Status s = CheckFloatTensors(c, *dir.tensors, dir.path); !s.ok()) return s;

  auto matrix = [&](const std::string& name) -> absl::StatusOr<WeightMatrix> {
    absl::StatusOr<TensorView> t = dir.tensors->Get(name);
    if (!t.ok()) return t.status();
    return WeightMatrix::FromTensor(*t);
  };
  auto linear = [&](const std::string& name) -> absl::StatusOr<std::shared_ptr<const Linear>> {
    absl::StatusOr<WeightMatrix> m = matrix(name);
    if (!m.ok()) return m.status();
    return std::make_shared<const WeightMatrix>(*std::move(m));
  };
  auto vec = [&](const std::string& name) -> absl::StatusOr<std::vector<float>> {
    absl::StatusOr<TensorView> t = dir.tensors->Get(name);
    if (!t.ok()) return t.status();
    std::vector<float> v(t->numel());
    if (absl::Status s = ConvertToFloat32(*t, v); !s.ok()) return s;
    return v;
  };
#define ACCLLM_ASSIGN(lhs, expr)          \
  do {                                    \
    auto result = (expr);                 \
    if (!result.ok()) return result.status(); \
    lhs = *std::move(result);             \
  } while (0)
  ACCLLM_ASSIGN(model->embedding_, matrix(kEmbeddingName));
  model->layers_.resize(c.n_layers);
  for (int l = 0; l < c.n_layers; ++l) {
    Layer& layer = model->layers_[l];
    ACCLLM_ASSIGN(layer.attn_norm, vec(AttnNormName(l)));
    ACCLLM_ASSIGN(layer.ffn_norm, vec(FfnNormName(l)));
    ACCLLM_ASSIGN(layer.wq, linear(LinearName(l, LayerLinear::kQ)));
    ACCLLM_ASSIGN(layer.wk, linear(LinearName(l, LayerLinear::kK)));
    ACCLLM_ASSIGN(layer.wv, linear(LinearName(l, LayerLinear::kV)));
    ACCLLM_ASSIGN(layer.wo, linear(LinearName(l, LayerLinear::kO)));
    ACCLLM_ASSIGN(layer.gate, linear(LinearName(l, LayerLinear::kGate)));
    ACCLLM_ASSIGN(layer.up, linear(LinearName(l, LayerLinear::kUp)));
    ACCLLM_ASSIGN(layer.down, linear(LinearName(l, LayerLinear::kDown)));
  }
  ACCLLM_ASSIGN(model->final_norm_, vec(kFinalNormName));
  if (c.tie_embeddings) {
    model->head_ = model->embedding_;
  } else {
    ACCLLM_ASSIGN(model->head_, matrix(kLmHeadName));
  }
#undef ACCLLM_ASSIGN
  model->rope_ = Rope(c.head_dim(), c.rope_theta);
  return model;
}

absl::Status LlamaModel::Forward(int32_t token, int64_t pos, SequenceKv& kv,
                                 std::span<float> logits) const {
  const ModelConfig& c = config_;
  if (token < 0 || token >= c.vocab_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("token id ", token, " is outside the vocabulary [0, ", c.vocab_size, ")"));
  }
  if (absl::Status s = kv.CheckWritable(pos); !s.ok()) return s;
  if (!logits.empty() && static_cast<int64_t>(logits.size()) != c.vocab_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("logits hold ", logits.size(), " floats, the vocabulary has ", c.vocab_size));
  }
  const int dim = c.dim;
  std::vector<float> x(dim), xb(dim), q(dim), attn_out(dim), proj(dim);
  std::vector<float> k(c.kv_dim()), v(c.kv_dim());
  std::vector<float> gate(c.hidden_dim), up(c.hidden_dim);
  embedding_.Row(token, x);

  for (int l = 0; l < c.n_layers; ++l) {
    const Layer& layer = layers_[l];
    RmsNorm(x, layer.attn_norm, static_cast<float>(c.norm_eps), xb);
    layer.wq->Apply(xb, q);
    layer.wk->Apply(xb, k);
    layer.wv->Apply(xb, v);
    rope_.ApplyAll(q, pos);
    kv.Store(l, pos, k, v);  // the store rotates k where its attention variant wants it
    kv.Attend(l, pos, q, attn_out);
    layer.wo->Apply(attn_out, proj);
    for (int i = 0; i < dim; ++i) x[i] += proj[i];

    RmsNorm(x, layer.ffn_norm, static_cast<float>(c.norm_eps), xb);
    layer.gate->Apply(xb, gate);
    layer.up->Apply(xb, up);
    for (int i = 0; i < c.hidden_dim; ++i) {
      const float g = gate[i];
      gate[i] = g / (1.0f + std::exp(-g)) * up[i];  // SwiGLU: silu(gate) * up
    }
    layer.down->Apply(gate, proj);
    for (int i = 0; i < dim; ++i) x[i] += proj[i];
  }
  if (logits.empty()) return absl::OkStatus();
  RmsNorm(x, final_norm_, static_cast<float>(c.norm_eps), xb);
  head_.MatVec(xb, logits);
  return absl::OkStatus();
}

}  // namespace accllm
