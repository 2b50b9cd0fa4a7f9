#include "quant/model_quantizer.h"

#include <algorithm>  // std::stable_sort
#include <cmath>      // std::isnan
#include <deque>
#include <map>
#include <mutex>
#include <system_error>
#include <tuple>

#include "absl/strings/str_cat.h"       // absl::StrCat
#include "model/dtype.h"                // DType, DTypeSize
#include "model/safetensors_writer.h"   // SafetensorsWriter
#include "model/tensor.h"               // ToFloat32Vector, EncodeFloat32
#include "model/tensor_names.h"         // LinearName, LinearShape
#include "model/tokenizer/tokenizer.h"  // kSentencePieceFileName, kLlama2cTokenizerFileName
#include "quant/int8_rows.h"            // QuantizeInt8Rows
#include "quant/layer_quantizer.h"      // PrepareInputs, QuantizePreparedLayer
#include "quant/parallel_for.h"         // ParallelFor
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
  // Solve every linear first, in parallel, then write them in model order. Linears that share
  // an input (q/k/v, gate/up) and a rotation choice share its prepared calibration side.
  struct Task {
    int l;
    LayerLinear linear;
    std::string prefix;
    LayerPlan plan;
    int site = -1;  // into `sites`
  };
  struct Site {
    int l;
    LayerLinear linear;  // the first linear of the input (whose moments stand for it)
    bool rotate = false, gptq = false;
    uint64_t seed = 0;
  };
  std::vector<Task> tasks;
  std::vector<Site> sites;
  std::map<std::tuple<int, int, bool>, int> site_of;
  for (int l = 0; l < c.n_layers; ++l) {
    for (LayerLinear linear : kAllLayerLinears) {
      Task& t = tasks.emplace_back();
      t.l = l;
      t.linear = linear;
      t.prefix = QuantizedTensorPrefix(LinearName(l, linear));
      t.plan = options.layer_config.PlanFor(t.prefix, options.base);
      if (t.plan.keep_float) continue;
      const int input = static_cast<int>(InputOf(linear));
      auto [it, inserted] =
          site_of.try_emplace({l, input, t.plan.rotate}, static_cast<int>(sites.size()));
      if (inserted) {
        Site& site = sites.emplace_back();
        site.l = l;
        site.linear = linear;
        site.rotate = t.plan.rotate;
        // Linears that share an input share its rotation: the engine rotates x once for all.
        site.seed = options.seed * 1000003 + static_cast<uint64_t>(l * 4 + input) + 1;
      }
      t.site = it->second;
      sites[static_cast<size_t>(t.site)].gptq |= t.plan.method == QuantMethod::kGptq;
    }
  }
  // One site at a time per thread: prepare its inputs (moments, rotation, GPTQ factor), solve
  // its linears, drop the prepared inputs. A site holds a few [cols, cols] double matrices
  // (254 MB each for a 5632-wide input), so preparing every site first needed tens of GB
  // on a 1B model (TinyLlama's quantization was OOM-killed on 24 GB).
  std::vector<std::vector<size_t>> site_tasks(sites.size());
  std::vector<int64_t> site_work(sites.size(), 0);
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (tasks[i].site < 0) continue;
    const MatrixShape shape = LinearShape(c, tasks[i].linear);
    site_tasks[static_cast<size_t>(tasks[i].site)].push_back(i);
    site_work[static_cast<size_t>(tasks[i].site)] += shape.rows * shape.cols;
  }
  // Largest first, so the last ones to finish are small.
  std::vector<size_t> order(sites.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return site_work[a] > site_work[b]; });

  std::vector<absl::StatusOr<LayerQuantResult>> results(tasks.size(),
                                                        absl::UnknownError("not solved"));
  const int total = static_cast<int>(tasks.size());
  int done = 0;
  std::mutex progress_mu;
  auto count_done = [&](const std::string& prefix) {
    std::lock_guard<std::mutex> lock(progress_mu);
    ++done;
    if (progress) progress(done, total, prefix);
  };
  for (const Task& t : tasks) {
    if (t.plan.keep_float) count_done(t.prefix);
  }
  ParallelFor(static_cast<int64_t>(sites.size()), options.threads, [&](int64_t k) {
    const size_t s = order[static_cast<size_t>(k)];
    const Site& site = sites[s];
    const int64_t cols = LinearShape(c, site.linear).cols;
    absl::StatusOr<PreparedInputs> prepared;
    {
      std::vector<double> fit, held;
      if (calibration != nullptr) {
        if (calibration->Fit(site.l, site.linear).samples() > 0) {
          fit = calibration->Fit(site.l, site.linear).Hessian();
        }
        if (calibration->HeldOut(site.l, site.linear).samples() > 0) {
          held = calibration->HeldOut(site.l, site.linear).Hessian();
        }
      }
      LayerQuantInputs inputs;
      inputs.fit = fit;
      inputs.held_out = held;
      inputs.damp_percent = options.damp_percent;
      inputs.rotation_seed = site.seed;
      prepared = PrepareInputs(cols, inputs, site.rotate, site.gptq);
    }
    for (const size_t i : site_tasks[s]) {
      const Task& t = tasks[i];
      absl::StatusOr<TensorView> tv = tensor(LinearName(t.l, t.linear));
      if (!prepared.ok()) {
        results[i] = prepared.status();
      } else if (!tv.ok()) {
        results[i] = tv.status();
      } else {
        const MatrixShape shape = LinearShape(c, t.linear);
        const std::vector<float> w = ToFloat32Vector(*tv);
        results[i] = QuantizePreparedLayer(w, shape.rows, shape.cols, t.plan, *prepared);
      }
      count_done(t.prefix);
    }
  });

  double total_bits = 0.0, total_weights = 0.0;
  size_t next_task = 0;
  for (int l = 0; l < c.n_layers; ++l) {
    if (absl::Status s = copy_tensor(AttnNormName(l)); !s.ok()) return s;
    if (absl::Status s = copy_tensor(FfnNormName(l)); !s.ok()) return s;
    for (LayerLinear linear : kAllLayerLinears) {
      const size_t ti = next_task++;
      const Task& task = tasks[ti];
      const std::string name = LinearName(l, linear);
      const std::string& prefix = task.prefix;
      const MatrixShape shape = LinearShape(c, linear);
      const LayerPlan& plan = task.plan;
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
        absl::StatusOr<LayerQuantResult>& r = results[ti];
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
            spec.seed = sites[static_cast<size_t>(task.site)].seed;
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
