#include "quant/model_quantizer.h"

#include <cmath>  // std::isnan
#include <deque>
#include <system_error>

#include "absl/strings/str_cat.h"       // absl::StrCat
#include "model/dtype.h"                // DType, DTypeSize
#include "model/safetensors_writer.h"   // SafetensorsWriter
#include "model/tensor.h"               // ToFloat32Vector, EncodeFloat32
#include "model/tensor_names.h"         // LinearName, LinearShape
#include "model/tokenizer/tokenizer.h"  // kSentencePieceFileName, kLlama2cTokenizerFileName
#include "quant/int8_rows.h"            // QuantizeInt8Rows
#include "quant/layer_quantizer.h"      // QuantizeLayer
#include "quant/quantized_linear_io.h"  // AddQuantizedLinear, QuantizedTensorPrefix

namespace accllm {
namespace {

// Everything the writer references must outlive Write: deques keep addresses stable.
struct Storage {
  std::deque<QuantizedLinear> linears;
  std::deque<std::vector<std::byte>> bytes;
  std::deque<Int8Rows> int8;
};

std::span<const std::byte> Bytes(const auto& v) { return std::as_bytes(std::span(v)); }

std::string PlanName(const LayerPlan& plan) {
  if (plan.keep_float) return "float";
  return absl::StrCat(plan.format.ToString(), " ", std::string(QuantMethodName(plan.method)),
                      plan.rotate ? " rot" : "");
}

// The embedding or head: int8 rows, or a float tensor of 16 (F16) / 32 (F32) bits.
absl::Status AddTableTensor(SafetensorsWriter& writer, Storage& storage, const TensorView& t,
                            int bits) {
  std::vector<float> w = ToFloat32Vector(t);
  if (w.empty()) return absl::InvalidArgumentError(absl::StrCat(t.name, ": not a float tensor"));
  if (bits == 8) {
    const int64_t rows = t.shape[0], cols = t.shape[1];
    Int8Rows& q = storage.int8.emplace_back(QuantizeInt8Rows(w, rows, cols));
    const std::string prefix = QuantizedTensorPrefix(t.name);
    if (absl::Status s = writer.Add(prefix + ".qweight", DType::kI8, {rows, cols}, Bytes(q.values));
        !s.ok()) {
      return s;
    }
    return writer.Add(prefix + ".scales", DType::kF16, {rows}, Bytes(q.scales));
  }
  const DType dtype = bits == 16 ? DType::kF16 : DType::kF32;
  std::vector<std::byte>& b = storage.bytes.emplace_back(EncodeFloat32(w, dtype));
  return writer.Add(t.name, dtype, t.shape, b);
}

std::filesystem::path TokenizerFile(const std::filesystem::path& dir) {
  for (std::string_view name : {kSentencePieceFileName, kLlama2cTokenizerFileName}) {
    if (std::filesystem::exists(dir / name)) return dir / name;
  }
  return {};
}

}  // namespace

std::vector<std::string> LinearPrefixes(const ModelConfig& config) {
  std::vector<std::string> prefixes;
  for (int l = 0; l < config.n_layers; ++l) {
    for (LayerLinear linear : kAllLayerLinears) {
      prefixes.push_back(QuantizedTensorPrefix(LinearName(l, linear)));
    }
  }
  return prefixes;
}

absl::StatusOr<ModelQuantizeReport> QuantizeModel(const ModelDir& in,
                                                  const CalibrationStats* calibration,
                                                  const ModelQuantizeOptions& options,
                                                  const std::filesystem::path& out,
                                                  const QuantizeProgressFn& progress) {
  const ModelConfig& c = in.config;
  if (!c.quantization_config_json.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(in.path.string(),
                     " is already quantized (config.json has a quantization_config); "
                     "quantize the float model it came from"));
  }
  std::error_code ec;
  if (std::filesystem::exists(out, ec) && std::filesystem::equivalent(in.path, out, ec)) {
    return absl::InvalidArgumentError("the output directory is the input directory");
  }
  const std::vector<std::string> prefixes = LinearPrefixes(c);
  if (absl::Status s = options.layer_config.CheckKeysMatch(prefixes); !s.ok()) return s;

  ModelQuantizeReport report;
  QuantizationConfig& qc = report.config;
  qc.weights = ResolveZeroPoint(options.base).format;
  qc.activation_bits = options.activation_bits;
  qc.kv_cache = options.kv_cache;
  qc.embedding_bits = options.embedding_bits;
  qc.lm_head_bits = c.tie_embeddings ? options.embedding_bits : options.lm_head_bits;

  SafetensorsWriter writer;
  Storage storage;
  auto tensor = [&](std::string_view name) { return in.tensors->Get(name); };
  auto copy_tensor = [&](const std::string& name) -> absl::Status {
    absl::StatusOr<TensorView> t = tensor(name);
    if (!t.ok()) return t.status();
    return writer.Add(name, t->dtype, t->shape, t->data);  // norms stay as stored (F32)
  };

  {
    absl::StatusOr<TensorView> emb = tensor(kEmbeddingName);
    if (!emb.ok()) return emb.status();
    if (absl::Status s = AddTableTensor(writer, storage, *emb, options.embedding_bits); !s.ok()) {
      return s;
    }
  }
  double total_bits = 0.0, total_weights = 0.0;
  const int total = static_cast<int>(prefixes.size());
  int done = 0;
  for (int l = 0; l < c.n_layers; ++l) {
    if (absl::Status s = copy_tensor(AttnNormName(l)); !s.ok()) return s;
    if (absl::Status s = copy_tensor(FfnNormName(l)); !s.ok()) return s;
    for (LayerLinear linear : kAllLayerLinears) {
      const std::string name = LinearName(l, linear);
      const std::string prefix = QuantizedTensorPrefix(name);
      const MatrixShape shape = LinearShape(c, linear);
      const LayerPlan plan = options.layer_config.PlanFor(prefix, options.base);
      LayerQuantReport row;
      row.prefix = prefix;
      row.format = PlanName(plan);
      absl::StatusOr<TensorView> t = tensor(name);
      if (!t.ok()) return t.status();
      if (plan.keep_float) {
        if (absl::Status s = writer.Add(name, t->dtype, t->shape, t->data); !s.ok()) return s;
        row.bits_per_weight = 8.0 * static_cast<double>(DTypeSize(t->dtype));
        row.relative_error = row.rtn_relative_error = 0.0;
      } else {
        const std::vector<float> w = ToFloat32Vector(*t);
        std::vector<double> fit, held;
        if (calibration != nullptr) {
          fit = calibration->Fit(l, linear).Hessian();
          held = calibration->HeldOut(l, linear).Hessian();
          if (calibration->Fit(l, linear).samples() == 0) fit.clear();
          if (calibration->HeldOut(l, linear).samples() == 0) held.clear();
        }
        LayerQuantInputs inputs;
        inputs.fit = fit;
        inputs.held_out = held;
        inputs.damp_percent = options.damp_percent;
        // Linears that share an input (q/k/v, gate/up) share its rotation: the engine can
        // rotate x once for all of them.
        inputs.rotation_seed = options.seed * 1000003 +
                               static_cast<uint64_t>(l * 4 + static_cast<int>(InputOf(linear))) + 1;
        absl::StatusOr<LayerQuantResult> r = QuantizeLayer(w, shape.rows, shape.cols, plan, inputs);
        if (!r.ok()) {
          return absl::Status(r.status().code(),
                              absl::StrCat(prefix, " (", row.format, "): ", r.status().message()));
        }
        QuantizedLinear& q = storage.linears.emplace_back(std::move(r->q));
        if (absl::Status s = AddQuantizedLinear(writer, prefix, q); !s.ok()) return s;
        if (r->rotation) {
          RotationSpec spec;
          if (r->rotation->kind() == Rotation::Kind::kHadamard) {
            spec.kind = RotationSpec::Kind::kHadamard;
            spec.seed = inputs.rotation_seed;
          } else {
            spec.kind = RotationSpec::Kind::kMatrix;
            const std::vector<float> m = r->rotation->Matrix();
            std::vector<std::byte>& b =
                storage.bytes.emplace_back(Bytes(m).begin(), Bytes(m).end());
            if (absl::Status s = writer.Add(prefix + std::string(kRotationTensorSuffix),
                                            DType::kF32, {shape.cols, shape.cols}, b);
                !s.ok()) {
              return s;
            }
          }
          qc.rotations[prefix] = spec;
        }
        qc.layers[prefix] = plan.format;
        row.bits_per_weight = q.bits_per_weight();
        row.relative_error = r->relative_error;
        row.rtn_relative_error = r->rtn_relative_error;
      }
      total_bits += row.bits_per_weight * static_cast<double>(shape.rows * shape.cols);
      total_weights += static_cast<double>(shape.rows * shape.cols);
      report.layers.push_back(std::move(row));
      ++done;
      if (progress) progress(done, total, prefix);
    }
  }
  if (absl::Status s = copy_tensor(kFinalNormName); !s.ok()) return s;
  if (!c.tie_embeddings) {
    absl::StatusOr<TensorView> head = tensor(kLmHeadName);
    if (!head.ok()) return head.status();
    if (absl::Status s = AddTableTensor(writer, storage, *head, options.lm_head_bits); !s.ok()) {
      return s;
    }
  }
  report.bits_per_weight = total_weights > 0 ? total_bits / total_weights : 0.0;

  if (absl::Status s = ValidateQuantizationConfig(qc); !s.ok()) return s;
  ModelConfig out_config = c;
  out_config.quantization_config_json = QuantizationConfigToJson(qc);
  if (absl::Status s = WriteModelFiles(out, out_config, writer, TokenizerFile(in.path)); !s.ok()) {
    return s;
  }
  return report;
}

}  // namespace accllm
