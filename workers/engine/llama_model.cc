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

absl::StatusOr<std::unique_ptr<LlamaModel>> LlamaModel::Load(const ModelDir& dir,
                                                             const LoadOptions& options) {
  auto model = std::unique_ptr<LlamaModel>(new LlamaModel());
  model->config_ = dir.config;
  model->tensors_ = dir.tensors;
  const ModelConfig& c = model->config_;
  if (absl::Status s = CheckModelTensors(c, *dir.tensors, dir.path); !s.ok()) return s;
  absl::StatusOr<LinearLoader> loader = LinearLoader::Create(dir, options);
  if (!loader.ok()) return loader.status();

  auto linear = [&](int l, LayerLinear which) {
    return loader->LoadLinear(LinearName(l, which), LinearShape(c, which));
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
  ACCLLM_ASSIGN(model->embedding_, loader->LoadEmbedding());
  model->layers_.resize(c.n_layers);
  for (int l = 0; l < c.n_layers; ++l) {
    Layer& layer = model->layers_[l];
    ACCLLM_ASSIGN(layer.attn_norm, vec(AttnNormName(l)));
    ACCLLM_ASSIGN(layer.ffn_norm, vec(FfnNormName(l)));
    ACCLLM_ASSIGN(layer.wq, linear(l, LayerLinear::kQ));
    ACCLLM_ASSIGN(layer.wk, linear(l, LayerLinear::kK));
    ACCLLM_ASSIGN(layer.wv, linear(l, LayerLinear::kV));
    ACCLLM_ASSIGN(layer.wo, linear(l, LayerLinear::kO));
    ACCLLM_ASSIGN(layer.gate, linear(l, LayerLinear::kGate));
    ACCLLM_ASSIGN(layer.up, linear(l, LayerLinear::kUp));
    ACCLLM_ASSIGN(layer.down, linear(l, LayerLinear::kDown));
  }
  ACCLLM_ASSIGN(model->final_norm_, vec(kFinalNormName));
  ACCLLM_ASSIGN(model->head_, loader->LoadHead());
#undef ACCLLM_ASSIGN
  if (loader->quantized()) model->kv_format_ = loader->quantization().kv_cache;
  model->linear_bits_per_weight_ = loader->LinearBitsPerWeight();
  model->rope_ = Rope(c.head_dim(), c.rope_theta);
  return model;
}

int64_t LlamaModel::WeightBytesPerStep() const {
  int64_t bytes = head_->weight_bytes();
  for (const Layer& l : layers_) {
    for (const auto* linear : {&l.wq, &l.wk, &l.wv, &l.wo, &l.gate, &l.up, &l.down}) {
      bytes += (*linear)->weight_bytes();
    }
  }
  return bytes;
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
  embedding_->Row(token, x);
  auto observe = [&](int l, LayerLinear linear, std::span<const float> in) {
    if (observer_ != nullptr) observer_->Observe(l, linear, in);
  };

  for (int l = 0; l < c.n_layers; ++l) {
    const Layer& layer = layers_[l];
    RmsNorm(x, layer.attn_norm, static_cast<float>(c.norm_eps), xb);
    observe(l, LayerLinear::kQ, xb);
    layer.wq->Apply(xb, q);
    observe(l, LayerLinear::kK, xb);
    layer.wk->Apply(xb, k);
    observe(l, LayerLinear::kV, xb);
    layer.wv->Apply(xb, v);
    rope_.ApplyAll(q, pos);
    kv.Store(l, pos, k, v);  // the store rotates k where its attention variant wants it
    kv.Attend(l, pos, q, attn_out);
    observe(l, LayerLinear::kO, attn_out);
    layer.wo->Apply(attn_out, proj);
    for (int i = 0; i < dim; ++i) x[i] += proj[i];

    RmsNorm(x, layer.ffn_norm, static_cast<float>(c.norm_eps), xb);
    observe(l, LayerLinear::kGate, xb);
    layer.gate->Apply(xb, gate);
    observe(l, LayerLinear::kUp, xb);
    layer.up->Apply(xb, up);
    for (int i = 0; i < c.hidden_dim; ++i) {
      const float g = gate[i];
      gate[i] = g / (1.0f + std::exp(-g)) * up[i];  // SwiGLU: silu(gate) * up
    }
    observe(l, LayerLinear::kDown, gate);
    layer.down->Apply(gate, proj);
    for (int i = 0; i < dim; ++i) x[i] += proj[i];
  }
  if (logits.empty()) return absl::OkStatus();
  RmsNorm(x, final_norm_, static_cast<float>(c.norm_eps), xb);
  head_->Apply(xb, logits);
  return absl::OkStatus();
}

}  // namespace accllm
