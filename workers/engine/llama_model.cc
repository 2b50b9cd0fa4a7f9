#include "workers/engine/llama_model.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "absl/strings/str_cat.h"         // absl::StrCat
#include "model/tensor_names.h"           // LinearName, ...
#include "workers/cpu/swiglu.h"           // SwiGluInPlace
#include "workers/engine/linear_group.h"  // ApplyBatchShared
#include "workers/engine/phase_clock.h"   // PhaseClock

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
#define ACCLLM_ASSIGN(lhs, expr)              \
  do {                                        \
    auto result = (expr);                     \
    if (!result.ok()) return result.status(); \
    lhs = *std::move(result);                 \
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
  if (loader->quantized()) {
    model->kv_format_ = loader->quantization().kv_cache;
    // A quantized model's tensors were copied out (tiled, decoded); the file's pages would
    // otherwise stay in this process's resident set beside the copies. A float tensor still
    // read in place (an unquantized head) faults its pages back in on first use.
    dir.tensors->DropResidentPages();
  }
  model->linear_bits_per_weight_ = loader->LinearBitsPerWeight();
  model->pool_ = loader->pool();
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

absl::Status LlamaModel::CheckToken(const BatchToken& t) const {
  const ModelConfig& c = config_;
  if (t.token < 0 || t.token >= c.vocab_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("token id ", t.token, " is outside the vocabulary [0, ", c.vocab_size, ")"));
  }
  if (t.kv == nullptr) return absl::InvalidArgumentError("token without a KV cache");
  if (absl::Status s = t.kv->CheckWritable(t.pos); !s.ok()) return s;
  if (!t.logits.empty() && static_cast<int64_t>(t.logits.size()) != c.vocab_size) {
    return absl::InvalidArgumentError(absl::StrCat("logits hold ", t.logits.size(),
                                                   " floats, the vocabulary has ", c.vocab_size));
  }
  return absl::OkStatus();
}

absl::Status LlamaModel::Forward(int32_t token, int64_t pos, SequenceKv& kv,
                                 std::span<float> logits) const {
  const BatchToken t{.token = token, .pos = pos, .kv = &kv, .logits = logits};
  return ForwardBatch({&t, 1});
}

absl::Status LlamaModel::ForwardBatch(std::span<const BatchToken> batch) const {
  for (const BatchToken& t : batch) {
    if (absl::Status s = CheckToken(t); !s.ok()) return s;
  }
  const ModelConfig& c = config_;
  const int64_t n = static_cast<int64_t>(batch.size());
  if (n == 0) return absl::OkStatus();
  const int dim = c.dim, kv_dim = c.kv_dim(), hidden = c.hidden_dim;
  // Activations of the whole batch, one row per token; kept per thread so a prefill chunk's
  // tens of megabytes are not mapped and faulted in anew each step. Every element is
  // written before it is read.
  struct Activations {
    std::vector<float> x, xb, q, attn, proj;  // [n, dim]
    std::vector<float> k, v;                  // [n, kv_dim]
    std::vector<float> gate, up;              // [n, hidden]
  };
  thread_local Activations act;
  for (auto* m : {&act.x, &act.xb, &act.q, &act.attn, &act.proj}) m->resize(n * dim);
  act.k.resize(n * kv_dim);
  act.v.resize(n * kv_dim);
  act.gate.resize(n * hidden);
  act.up.resize(n * hidden);
  auto& [x, xb, q, attn, proj, k, v, gate, up] = act;
  auto row = [](std::vector<float>& m, int64_t i, int width) {
    return std::span<float>(m.data() + i * width, static_cast<size_t>(width));
  };
  PhaseClock clock(phase_totals_);
  for (int64_t i = 0; i < n; ++i) embedding_->Row(batch[i].token, row(x, i, dim));
  clock.Lap(EnginePhase::kEmbed);
  // Attention on the kernel threads when every cache allows it, in equal parts per token.
  const int64_t parts = batch[0].kv->AttendParts();
  bool concurrent_attend = pool_ != nullptr;
  for (const BatchToken& t : batch) {
    concurrent_attend =
        concurrent_attend && t.kv->ConcurrentAttend() && t.kv->AttendParts() == parts;
  }
  // Query blocks: runs of consecutive positions of one sequence (a prefill chunk), which a
  // cache may attend to together, reading each key once for the block.
  struct QueryBlock {
    int64_t first = 0;
    int32_t count = 0;
  };
  constexpr int32_t kQueryBlock = 8;
  std::vector<QueryBlock> blocks;
  for (int64_t i = 0; i < n; ++i) {
    if (!blocks.empty()) {
      QueryBlock& b = blocks.back();
      const BatchToken& prev = batch[b.first + b.count - 1];
      if (b.count < kQueryBlock && batch[i].kv == prev.kv && batch[i].pos == prev.pos + 1) {
        ++b.count;
        continue;
      }
    }
    blocks.push_back({i, 1});
  }
  const float eps = static_cast<float>(c.norm_eps);
  // Per-token work (norms, RoPE) of a prefill chunk on the kernel threads: on one, the others
  // would wait through it. Rows are independent, so the bits do not change.
  auto for_tokens = [&](const std::function<void(int64_t)>& fn) {
    auto rows = [&](int64_t b, int64_t e, int) {
      for (int64_t i = b; i < e; ++i) fn(i);
    };
    RunOnPool(pool_.get(), [&](ThreadPool* pool) {
      if (pool != nullptr && n >= 16) {
        pool->ParallelForDynamic(n, rows, 4);
      } else {
        rows(0, n, 0);
      }
    });
  };
  auto observe = [&](int l, LayerLinear linear, std::vector<float>& in, int width) {
    if (observer_ == nullptr) return;
    for (int64_t i = 0; i < n; ++i) observer_->Observe(l, linear, row(in, i, width));
  };

  for (int l = 0; l < c.n_layers; ++l) {
    const Layer& layer = layers_[l];
    clock.Lap(EnginePhase::kResidual);  // the previous layer's last residual add
    for_tokens([&](int64_t i) { RmsNorm(row(x, i, dim), layer.attn_norm, eps, row(xb, i, dim)); });
    clock.Lap(EnginePhase::kNorm);
    observe(l, LayerLinear::kQ, xb, dim);
    observe(l, LayerLinear::kK, xb, dim);
    observe(l, LayerLinear::kV, xb, dim);
    {
      const Linear* qkv[] = {layer.wq.get(), layer.wk.get(), layer.wv.get()};
      float* outs[] = {q.data(), k.data(), v.data()};
      ApplyBatchShared(qkv, xb.data(), n, outs);
    }
    clock.Lap(EnginePhase::kQkv);
    // Every K/V of the step is stored first; a query then reads only positions up to its
    // own, all stored, so the queries are independent and may run on the kernel threads.
    for_tokens([&](int64_t i) { rope_.ApplyAll(row(q, i, dim), batch[i].pos); });
    clock.Lap(EnginePhase::kRope);
    for (int64_t i = 0; i < n; ++i) {
      const BatchToken& t = batch[i];
      t.kv->Store(l, t.pos, row(k, i, kv_dim), row(v, i, kv_dim));
    }
    clock.Lap(EnginePhase::kKvStore);
    if (concurrent_attend) {
      // (query block, part) items: a lone decode token still splits over its KV heads.
      const int64_t items = static_cast<int64_t>(blocks.size()) * parts;
      auto attend_parts = [&](int64_t b, int64_t e, int) {
        for (int64_t item = b; item < e; ++item) {
          const QueryBlock& qb = blocks[item / parts];
          const BatchToken& t = batch[qb.first];
          t.kv->AttendBlockPart(l, t.pos, qb.count, q.data() + qb.first * dim,
                                attn.data() + qb.first * dim, dim,
                                static_cast<int32_t>(item % parts));
        }
      };
      RunOnPool(pool_.get(), [&](ThreadPool* pool) {
        if (pool != nullptr) {
          pool->ParallelForDynamic(items, attend_parts, 1);
        } else {
          attend_parts(0, items, 0);
        }
      });
    } else {
      for (int64_t i = 0; i < n; ++i) {
        batch[i].kv->Attend(l, batch[i].pos, row(q, i, dim), row(attn, i, dim));
      }
    }
    clock.Lap(EnginePhase::kAttention);
    observe(l, LayerLinear::kO, attn, dim);
    layer.wo->ApplyBatch(attn.data(), n, proj.data());
    clock.Lap(EnginePhase::kOutProj);
    for (int64_t i = 0; i < n * dim; ++i) x[i] += proj[i];
    clock.Lap(EnginePhase::kResidual);

    for_tokens([&](int64_t i) { RmsNorm(row(x, i, dim), layer.ffn_norm, eps, row(xb, i, dim)); });
    clock.Lap(EnginePhase::kNorm);
    observe(l, LayerLinear::kGate, xb, dim);
    observe(l, LayerLinear::kUp, xb, dim);
    {
      const Linear* gate_up[] = {layer.gate.get(), layer.up.get()};
      float* outs[] = {gate.data(), up.data()};
      ApplyBatchShared(gate_up, xb.data(), n, outs);
    }
    clock.Lap(EnginePhase::kGateUp);
    // SwiGLU: silu(gate) * up. Elementwise, so it splits over the threads with the same bits;
    // its exp is a large share of a big batch's non-GEMM work.
    auto swiglu = [&](int64_t b, int64_t e, int) {
      SwiGluInPlace(gate.data() + b, up.data() + b, e - b);
    };
    RunOnPool(pool_.get(), [&](ThreadPool* pool) {
      // A decode token's few thousand take less time than waking the other threads.
      if (pool != nullptr && n * hidden >= 32768) {
        pool->ParallelForDynamic(n * hidden, swiglu, 4096);
      } else {
        swiglu(0, n * hidden, 0);
      }
    });
    clock.Lap(EnginePhase::kSwiGlu);
    observe(l, LayerLinear::kDown, gate, hidden);
    layer.down->ApplyBatch(gate.data(), n, proj.data());
    clock.Lap(EnginePhase::kDown);
    for (int64_t i = 0; i < n * dim; ++i) x[i] += proj[i];
  }
  clock.Lap(EnginePhase::kResidual);

  // The head only for the tokens that want logits (a prefill chunk's last), as one batch.
  std::vector<int64_t> heads;
  for (int64_t i = 0; i < n; ++i) {
    if (!batch[i].logits.empty()) heads.push_back(i);
  }
  if (heads.empty()) return absl::OkStatus();
  const int64_t m = static_cast<int64_t>(heads.size());
  std::vector<float> normed(m * dim), logits(m * c.vocab_size);
  for (int64_t j = 0; j < m; ++j) {
    RmsNorm(row(x, heads[j], dim), final_norm_, eps, row(normed, j, dim));
  }
  clock.Lap(EnginePhase::kNorm);
  head_->ApplyBatch(normed.data(), m, logits.data());
  for (int64_t j = 0; j < m; ++j) {
    std::span<float> out = batch[heads[j]].logits;
    std::copy_n(logits.data() + j * c.vocab_size, c.vocab_size, out.data());
  }
  clock.Lap(EnginePhase::kHead);
  return absl::OkStatus();
}

}  // namespace accllm
