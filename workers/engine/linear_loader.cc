#include "workers/engine/linear_loader.h"

#include <utility>

#include "absl/strings/str_cat.h"            // absl::StrCat
#include "model/dtype.h"                     // DTypeSize
#include "quant/quantized_linear_io.h"       // QuantizedTensorPrefix, ReadQuantizedLinear
#include "quant/rotation.h"                  // Rotation
#include "workers/engine/int8_row_matrix.h"  // Int8RowMatrix
#include "workers/engine/rotated_linear.h"   // RotatedLinear
#include "workers/engine/weight_matrix.h"    // WeightMatrix

namespace accllm {
namespace {

constexpr char kEmbeddingPrefix[] = "model.embed_tokens";
constexpr char kLmHeadPrefix[] = "lm_head";

}  // namespace

absl::StatusOr<LinearLoader> LinearLoader::Create(const ModelDir& dir, const LoadOptions& options) {
  LinearLoader loader;
  loader.dir_ = dir;
  loader.options_ = options;
  const ModelConfig& c = dir.config;
  if (c.quantization_config_json.empty()) {
    // Float layers split their rows over the kernel threads too.
    loader.pool_ = std::make_shared<SharedThreadPool>(options.threads);
    return loader;
  }
  loader.quantized_ = true;
  const std::string where = (dir.path / kConfigFileName).string();
  absl::StatusOr<QuantizationConfig> q = ParseQuantizationConfig(c.quantization_config_json, where);
  if (!q.ok()) return q.status();
  loader.q_ = *std::move(q);

  // Every name the block lists must be a linear of this model: a typo would otherwise
  // silently leave a layer float (or its rotation unapplied).
  std::set<std::string, std::less<>> linears;
  for (int l = 0; l < c.n_layers; ++l) {
    for (LayerLinear linear : kAllLayerLinears) {
      linears.insert(QuantizedTensorPrefix(LinearName(l, linear)));
    }
  }
  for (const auto& [name, format] : loader.q_.layers) {
    if (!linears.contains(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": quantization_config.layers[\"", name, "\"] is not a linear layer of this ",
          c.n_layers, "-layer model (expected e.g. \"", *linears.begin(), "\")"));
    }
  }
  for (const auto& [name, rotation] : loader.q_.rotations) {
    if (!linears.contains(name)) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": quantization_config.rotations[\"",
                                                     name,
                                                     "\"] is not a linear layer of this model"));
    }
  }
  if (c.tie_embeddings && (loader.q_.embedding_bits == 8) != (loader.q_.lm_head_bits == 8)) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": quantization_config.lm_head.bits is ", loader.q_.lm_head_bits,
        " but embedding.bits is ", loader.q_.embedding_bits,
        "; a tied head shares the embedding's storage, so both must be 8 or both float"));
  }
  // Float layers left in a quantized model (and a float head) use the pool too.
  loader.pool_ = std::make_shared<SharedThreadPool>(options.threads);
  return loader;
}

absl::StatusOr<std::shared_ptr<const Linear>> LinearLoader::LoadLinear(
    const std::string& weight_name, MatrixShape shape) {
  const std::string prefix = QuantizedTensorPrefix(weight_name);
  const TensorStore& store = *dir_.tensors;
  const WeightFormat* format = quantized_ ? q_.LayerFormat(prefix) : nullptr;
  std::shared_ptr<const Linear> linear;
  if (format != nullptr) {
    absl::StatusOr<QuantizedLinear> ql =
        ReadQuantizedLinear(store, prefix, *format, shape.rows, shape.cols);
    if (!ql.ok()) return ql.status();
    stored_bits_ += static_cast<double>(ql->layout.total_bits());
    linear = std::make_shared<const QuantizedLinearA8>(*std::move(ql), q_.activation_bits, pool_,
                                                       options_.use_simd);
  } else {
    if (!store.Contains(weight_name) && store.Contains(prefix + ".qweight")) {
      return absl::InvalidArgumentError(absl::StrCat(dir_.path.string(), ": tensor \"", prefix,
                                                     ".qweight\" is stored but "
                                                     "quantization_config.layers does not list \"",
                                                     prefix, "\" (and \"", weight_name,
                                                     "\" is missing)"));
    }
    absl::StatusOr<TensorView> t = store.Get(weight_name);
    if (!t.ok()) return t.status();
    absl::StatusOr<WeightMatrix> m = WeightMatrix::FromTensor(*t, pool_);
    if (!m.ok()) return m.status();
    stored_bits_ += 8.0 * DTypeSize(t->dtype) * static_cast<double>(shape.rows * shape.cols);
    linear = std::make_shared<const WeightMatrix>(*std::move(m));
  }
  weights_ += static_cast<double>(shape.rows * shape.cols);

  const RotationSpec* spec = quantized_ ? q_.LayerRotation(prefix) : nullptr;
  if (spec == nullptr) return linear;
  if (spec->kind == RotationSpec::Kind::kHadamard) {
    return std::make_shared<const RotatedLinear>(Rotation::Hadamard(shape.cols, spec->seed),
                                                 std::move(linear));
  }
  const std::string name = prefix + std::string(kRotationTensorSuffix);
  if (!store.Contains(name)) {
    return absl::NotFoundError(absl::StrCat(dir_.path.string(), ": tensor \"", name,
                                            "\" not found (quantization_config.rotations[\"",
                                            prefix, "\"] is a matrix rotation)"));
  }
  absl::StatusOr<TensorView> t = store.Get(name);
  if (!t.ok()) return t.status();
  if (t->dtype != DType::kF32 || t->shape != std::vector<int64_t>{shape.cols, shape.cols}) {
    return absl::InvalidArgumentError(absl::StrCat(
        dir_.path.string(), ": tensor \"", name, "\" is ", std::string(DTypeName(t->dtype)), " ",
        t->ShapeString(), ", expected F32 [", shape.cols, ", ", shape.cols, "]"));
  }
  std::vector<float> m(static_cast<size_t>(t->numel()));
  if (absl::Status s = ConvertToFloat32(*t, m); !s.ok()) return s;
  absl::StatusOr<Rotation> r = Rotation::FromMatrix(m, shape.cols);
  if (!r.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir_.path.string(), ": tensor \"", name, "\": ", r.status().message()));
  }
  return std::make_shared<const RotatedLinear>(*std::move(r), std::move(linear));
}

absl::StatusOr<std::shared_ptr<const EmbeddingTable>> LinearLoader::LoadEmbedding() {
  const ModelConfig& c = dir_.config;
  if (quantized_ && q_.embedding_bits == 8) {
    // Tiled for the A8 head only when it is the head too: a lookup table reads a few rows.
    absl::StatusOr<Int8RowMatrix> rows =
        Int8RowMatrix::Read(*dir_.tensors, kEmbeddingPrefix, c.vocab_size, c.dim,
                            q_.activation_bits == 8 && c.tie_embeddings, pool_);
    if (!rows.ok()) return rows.status();
    auto shared = std::make_shared<const Int8RowMatrix>(*std::move(rows));
    if (c.tie_embeddings) int8_embedding_as_head_ = shared;
    embedding_ = shared;
    return embedding_;
  }
  absl::StatusOr<TensorView> t = dir_.tensors->Get(kEmbeddingName);
  if (!t.ok()) return t.status();
  absl::StatusOr<WeightMatrix> m = WeightMatrix::FromTensor(*t);
  if (!m.ok()) return m.status();
  embedding_ = std::make_shared<const FloatEmbedding>(*std::move(m));
  return embedding_;
}

absl::StatusOr<std::shared_ptr<const Linear>> LinearLoader::LoadHead() {
  const ModelConfig& c = dir_.config;
  if (int8_embedding_as_head_) return int8_embedding_as_head_;
  if (quantized_ && !c.tie_embeddings && q_.lm_head_bits == 8) {
    absl::StatusOr<Int8RowMatrix> rows = Int8RowMatrix::Read(
        *dir_.tensors, kLmHeadPrefix, c.vocab_size, c.dim, q_.activation_bits == 8, pool_);
    if (!rows.ok()) return rows.status();
    return std::make_shared<const Int8RowMatrix>(*std::move(rows));
  }
  absl::StatusOr<TensorView> t = dir_.tensors->Get(c.tie_embeddings ? kEmbeddingName : kLmHeadName);
  if (!t.ok()) return t.status();
  absl::StatusOr<WeightMatrix> m = WeightMatrix::FromTensor(*t, pool_);
  if (!m.ok()) return m.status();
  return std::make_shared<const WeightMatrix>(*std::move(m));
}

double LinearLoader::LinearBitsPerWeight() const {
  return weights_ > 0 ? stored_bits_ / weights_ : 32.0;
}

}  // namespace accllm
