#include "workers/fpga/backend/model_placement.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"                // absl::StrCat
#include "model/tensor_names.h"                  // LinearName, LinearShape, norm names
#include "quant/int8_rows_io.h"                  // ReadInt8Table
#include "quant/quantization_config.h"           // ParseQuantizationConfig
#include "quant/quantized_linear_io.h"           // ReadQuantizedLinear, QuantizedTensorPrefix
#include "workers/fpga/kernels/decoder_step.h"   // CheckModelDesc
#include "workers/fpga/kernels/kv_pool.h"        // ComputeKvPageLayout, kMaxHeadDim

namespace accllm::fpga {
namespace {

constexpr char kEmbeddingPrefix[] = "model.embed_tokens";
constexpr char kLmHeadPrefix[] = "lm_head";

// Allocations of a load in progress: freed together when the load fails.
class Placer {
 public:
  explicit Placer(Device& device, PlacedModel& placed) : device_(device), placed_(placed) {}

  // Copies `bytes` to a new allocation in `bank` (or the next bank with room, among
  // [first, first + count)).
  absl::StatusOr<DeviceRef> Put(int bank, int first, int count, const void* data,
                                uint64_t bytes) {
    absl::Status last;
    for (int i = 0; i < count; ++i) {
      const int b = first + (bank - first + i) % count;
      absl::StatusOr<DeviceRef> ref = device_.Allocate(b, bytes);
      if (!ref.ok()) {
        last = ref.status();
        continue;
      }
      placed_.allocations.push_back(*ref);
      if (absl::Status s = device_.Write(*ref, 0, data, bytes); !s.ok()) return s;
      if (absl::Status s = device_.Sync(*ref, Direction::kToDevice); !s.ok()) return s;
      return *ref;
    }
    return last;
  }

 private:
  Device& device_;
  PlacedModel& placed_;
};

absl::Status CheckSupported(const ModelConfig& c, const QuantizationConfig& q,
                            const std::string& where) {
  auto unsupported = [&](const std::string& what) {
    return absl::FailedPreconditionError(
        absl::StrCat(where, ": the FPGA backend does not run ", what,
                     " (it runs W2/W3/W4/W8 x A8 linears, dense or 2:4, an int8 embedding and "
                     "head, KV4 or KV8; requantize with accllm quantize, or use --device cpu)"));
  };
  if (q.activation_bits != 8) return unsupported("float (A16) activations");
  if (!q.rotations.empty()) return unsupported("online input rotations (--rotate)");
  if (q.embedding_bits != 8) return unsupported("a float embedding");
  if (!c.tie_embeddings && q.lm_head_bits != 8) return unsupported("a float LM head");
  if (q.kv_cache.bits != 4 && q.kv_cache.bits != 8) {
    return unsupported(absl::StrCat("a ", q.kv_cache.bits, "-bit KV cache"));
  }
  const int32_t head_dim = c.head_dim();
  if (head_dim % 2 != 0 || head_dim > kMaxHeadDim) {
    return unsupported(absl::StrCat("head_dim ", head_dim, " (even and <= ", kMaxHeadDim, ")"));
  }
  for (int l = 0; l < c.n_layers; ++l) {
    for (LayerLinear linear : kAllLayerLinears) {
      const std::string prefix = QuantizedTensorPrefix(LinearName(l, linear));
      if (q.LayerFormat(prefix) == nullptr) return unsupported(absl::StrCat("float ", prefix));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status PlacedModel::Free(Device& device) {
  absl::Status first;
  for (const DeviceRef& ref : allocations) {
    absl::Status s = device.Free(ref);
    if (first.ok() && !s.ok()) first = s;
  }
  allocations.clear();
  return first;
}

absl::StatusOr<PlacedModel> PlaceModel(Device& device, const ModelDir& dir, int32_t num_pages,
                                       int32_t page_size) {
  const ModelConfig& c = dir.config;
  const std::string where = (dir.path / kConfigFileName).string();
  if (c.quantization_config_json.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        dir.path.string(), " is a float model: the FPGA backend runs quantized W x A8 models "
                           "(accllm quantize --activations a8), or use --device cpu"));
  }
  absl::StatusOr<QuantizationConfig> q = ParseQuantizationConfig(c.quantization_config_json, where);
  if (!q.ok()) return q.status();
  if (absl::Status s = CheckSupported(c, *q, where); !s.ok()) return s;
  if (num_pages < 1 || page_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("a KV pool of ", num_pages, " pages of ",
                                                   page_size, " positions"));
  }
  const TensorStore& store = *dir.tensors;

  PlacedModel placed;
  Placer placer(device, placed);
  auto fail = [&](absl::Status s) {
    (void)placed.Free(device);
    return s;
  };
  ModelDesc& m = placed.desc;
  m.dim = c.dim;
  m.hidden = c.hidden_dim;
  m.n_layers = c.n_layers;
  m.n_heads = c.n_heads;
  m.n_kv_heads = c.n_kv_heads;
  m.head_dim = c.head_dim();
  m.vocab = c.vocab_size;
  m.norm_eps = static_cast<float>(c.norm_eps);
  placed.kv_format = q->kv_cache;
  m.kv_bits = q->kv_cache.bits;
  m.rotate_keys = q->kv_cache.rotate_keys ? 1 : 0;
  m.sink_tokens = q->kv_cache.sink_tokens;
  m.page_size = page_size;
  m.num_pages = num_pages;
  m.kv = ComputeKvPageLayout(c.n_layers, c.n_kv_heads, c.head_dim(), m.kv_bits, page_size,
                             m.sink_tokens);

  // Norms: float32 [dim], on the descriptor bank.
  auto norm = [&](const std::string& name) -> absl::StatusOr<DeviceRef> {
    absl::StatusOr<TensorView> t = store.Get(name);
    if (!t.ok()) return t.status();
    std::vector<float> v(static_cast<size_t>(t->numel()));
    if (absl::Status s = ConvertToFloat32(*t, v); !s.ok()) return s;
    if (static_cast<int64_t>(v.size()) != c.dim) {
      return absl::InvalidArgumentError(absl::StrCat(dir.path.string(), ": tensor \"", name,
                                                     "\" has ", v.size(), " values, expected ",
                                                     c.dim));
    }
    return placer.Put(kDescBank, kDescBank, 1, v.data(), v.size() * sizeof(float));
  };
  int next_bank = 0;
  auto linear = [&](int l, LayerLinear which) -> absl::StatusOr<LinearDesc> {
    const std::string prefix = QuantizedTensorPrefix(LinearName(l, which));
    const WeightFormat& format = *q->LayerFormat(prefix);
    const MatrixShape shape = LinearShape(c, which);
    absl::StatusOr<QuantizedLinear> ql =
        ReadQuantizedLinear(store, prefix, format, shape.rows, shape.cols);
    if (!ql.ok()) return ql.status();
    LinearDesc d;
    d.rows = static_cast<int32_t>(shape.rows);
    d.cols = static_cast<int32_t>(shape.cols);
    d.bits = format.bits;
    d.pow2 = format.scheme == WeightScheme::kPow2;
    d.group = format.group;
    d.sparse24 = format.sparsity == Sparsity::k2of4;
    d.integer_zero = format.zero_point == ZeroPoint::kInteger;
    d.num_groups = ql->layout.num_groups;
    d.qweight_row_bytes = ql->layout.qweight_row_bytes;
    d.mask_row_bytes = ql->layout.mask_row_bytes;
    // One linear's tensors in one channel; the next linear in the next channel.
    const int bank = next_bank;
    next_bank = (next_bank + 1) % kWeightBanks;
    auto put = [&](const void* data, size_t bytes) -> absl::StatusOr<DeviceRef> {
      if (bytes == 0) return DeviceRef{};
      return placer.Put(bank, 0, kWeightBanks, data, bytes);
    };
    absl::StatusOr<DeviceRef> r = put(ql->qweight.data(), ql->qweight.size());
    if (!r.ok()) return r.status();
    d.qweight = *r;
    if (r = put(ql->scales.data(), ql->scales.size() * 2); !r.ok()) return r.status();
    d.scales = *r;
    if (r = put(ql->zeros.data(), ql->zeros.size() * 2); !r.ok()) return r.status();
    d.zeros = *r;
    if (r = put(ql->mask.data(), ql->mask.size()); !r.ok()) return r.status();
    d.mask = *r;
    placed.weight_bytes_per_step += static_cast<int64_t>(d.bytes());
    return d;
  };
  auto table = [&](const char* prefix) -> absl::StatusOr<Int8TableDesc> {
    absl::StatusOr<Int8TableView> t = ReadInt8Table(store, prefix, c.vocab_size, c.dim);
    if (!t.ok()) return t.status();
    Int8TableDesc d;
    d.rows = c.vocab_size;
    d.cols = c.dim;
    absl::StatusOr<DeviceRef> r =
        placer.Put(kTableBank, 0, kWeightBanks + 2, t->values.data(), t->values.size());
    if (!r.ok()) return r.status();
    d.values = *r;
    if (r = placer.Put(kTableBank, 0, kWeightBanks + 2, t->scales.data(), t->scales.size() * 2);
        !r.ok()) {
      return r.status();
    }
    d.scales = *r;
    return d;
  };

  placed.layers.resize(static_cast<size_t>(c.n_layers));
  for (int l = 0; l < c.n_layers; ++l) {
    LayerDesc& d = placed.layers[l];
    absl::StatusOr<DeviceRef> n = norm(AttnNormName(l));
    if (!n.ok()) return fail(n.status());
    d.attn_norm = *n;
    if (n = norm(FfnNormName(l)); !n.ok()) return fail(n.status());
    d.ffn_norm = *n;
    std::pair<LayerLinear, LinearDesc*> linears[] = {
        {LayerLinear::kQ, &d.q},       {LayerLinear::kK, &d.k},   {LayerLinear::kV, &d.v},
        {LayerLinear::kO, &d.o},       {LayerLinear::kGate, &d.gate},
        {LayerLinear::kUp, &d.up},     {LayerLinear::kDown, &d.down}};
    for (auto& [which, out] : linears) {
      absl::StatusOr<LinearDesc> ld = linear(l, which);
      if (!ld.ok()) return fail(ld.status());
      *out = *ld;
    }
  }
  absl::StatusOr<DeviceRef> final_norm = norm(std::string(kFinalNormName));
  if (!final_norm.ok()) return fail(final_norm.status());
  m.final_norm = *final_norm;
  absl::StatusOr<Int8TableDesc> embedding = table(kEmbeddingPrefix);
  if (!embedding.ok()) return fail(embedding.status());
  m.embedding = *embedding;
  if (c.tie_embeddings) {
    m.head = m.embedding;
  } else {
    absl::StatusOr<Int8TableDesc> head = table(kLmHeadPrefix);
    if (!head.ok()) return fail(head.status());
    m.head = *head;
  }
  double linear_weights = 0;
  for (const LayerDesc& d : placed.layers) {
    for (const LinearDesc* l : {&d.q, &d.k, &d.v, &d.o, &d.gate, &d.up, &d.down}) {
      linear_weights += static_cast<double>(l->rows) * l->cols;
    }
  }
  placed.linear_bits_per_weight =
      8.0 * static_cast<double>(placed.weight_bytes_per_step) / linear_weights;
  placed.weight_bytes_per_step += static_cast<int64_t>(m.head.bytes());

  // The pool: pages are byte ranges of one allocation (page copies are device copies).
  const uint64_t pool_bytes = static_cast<uint64_t>(num_pages) * m.kv.page_bytes;
  absl::StatusOr<DeviceRef> pool = device.Allocate(kKvBank, pool_bytes);
  if (!pool.ok()) {
    return fail(absl::ResourceExhaustedError(absl::StrCat(
        "a KV pool of ", num_pages, " pages of ", m.kv.page_bytes, " bytes (", pool_bytes,
        " bytes) does not fit HBM bank ", kKvBank, ": ", pool.status().message(),
        "; ask for fewer pages (--kv-pages)")));
  }
  placed.allocations.push_back(*pool);
  m.kv_pool = *pool;

  std::vector<uint8_t> block(ModelDescBytes(m.n_layers));
  WriteModelDesc(m, placed.layers.data(), block.data());
  absl::StatusOr<DeviceRef> desc = placer.Put(kDescBank, kDescBank, 1, block.data(), block.size());
  if (!desc.ok()) return fail(desc.status());
  placed.desc_ref = *desc;
  return placed;
}

}  // namespace accllm::fpga
