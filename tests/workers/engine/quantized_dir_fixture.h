// Test helper: quantized model directories written from a float one (RTN), and the float
// directory whose weights are exactly the dequantized ones, so the engine's quantized path
// can be compared with its float path.
#ifndef ACCLLM_TESTS_WORKERS_ENGINE_QUANTIZED_DIR_FIXTURE_H_
#define ACCLLM_TESTS_WORKERS_ENGINE_QUANTIZED_DIR_FIXTURE_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "model/dtype.h"                // FloatToHalf, HalfToFloat
#include "model/model_dir.h"            // OpenModelDir, WriteModelFiles
#include "model/safetensors_writer.h"   // SafetensorsWriter
#include "model/tensor_names.h"         // ExpectedTensors, LinearName
#include "quant/quantization_config.h"  // QuantizationConfig
#include "quant/quantized_linear_io.h"  // AddQuantizedLinear, QuantizedTensorPrefix
#include "quant/rotation.h"             // Rotation
#include "quant/rtn.h"                  // QuantizeRtn

namespace accllm::testing {

struct QuantizedDirOptions {
  QuantizationConfig config;  // `layers` empty: every linear gets config.weights
  // Per-layer override by prefix suffix, e.g. {"mlp.down_proj", w2 2:4}.
  std::vector<std::pair<std::string, WeightFormat>> overrides;
  std::vector<std::string> keep_float;  // prefix suffixes left float
  // Called on every tensor before it is written: may rename/reshape (same numel) or drop
  // (return false). For malformed-directory tests.
  std::function<bool(std::string& name, std::vector<int64_t>& shape)> edit;
};

inline bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Writes `qdir` (quantized) and, when `deq_dir` is non-empty, its float equivalent.
inline void WriteQuantizedDir(const std::filesystem::path& float_dir,
                              const std::filesystem::path& qdir,
                              const std::filesystem::path& deq_dir, QuantizedDirOptions o) {
  absl::StatusOr<ModelDir> src = OpenModelDir(float_dir);
  ASSERT_TRUE(src.ok()) << src.status();
  const ModelConfig& c = src->config;
  std::deque<std::vector<std::byte>> bytes;  // keeps every tensor's data alive for the writers
  std::deque<QuantizedLinear> packed;
  SafetensorsWriter qw, fw;
  auto add = [&](SafetensorsWriter& w, std::string name, DType dtype, std::vector<int64_t> shape,
                 std::vector<std::byte> data, bool editable) {
    if (editable && o.edit && !o.edit(name, shape)) return;
    bytes.push_back(std::move(data));
    absl::Status s = w.Add(name, dtype, shape, bytes.back());
    ASSERT_TRUE(s.ok()) << s;
  };
  auto add_f32 = [&](SafetensorsWriter& w, const std::string& name, std::vector<int64_t> shape,
                     const std::vector<float>& v, bool editable) {
    add(w, name, DType::kF32, std::move(shape), EncodeFloat32(v, DType::kF32), editable);
  };
  // int8 per-row symmetric rows (embedding / head), and their float equivalent.
  auto add_int8 = [&](const std::string& prefix, const std::vector<float>& w, int64_t rows,
                      int64_t cols, const std::string& float_name) {
    std::vector<std::byte> q(static_cast<size_t>(rows * cols));
    std::vector<uint16_t> scales(static_cast<size_t>(rows));
    std::vector<float> deq(w.size());
    for (int64_t r = 0; r < rows; ++r) {
      float max_abs = 0;
      for (int64_t i = 0; i < cols; ++i) max_abs = std::max(max_abs, std::fabs(w[r * cols + i]));
      scales[r] = FloatToHalf(max_abs > 0 ? max_abs / 127.0f : 1.0f);
      const float s = HalfToFloat(scales[r]);
      for (int64_t i = 0; i < cols; ++i) {
        const float v = std::clamp(std::nearbyint(w[r * cols + i] / s), -127.0f, 127.0f);
        q[r * cols + i] = static_cast<std::byte>(static_cast<int8_t>(v));
        deq[r * cols + i] = s * v;
      }
    }
    std::vector<std::byte> sb(scales.size() * 2);
    std::memcpy(sb.data(), scales.data(), sb.size());
    add(qw, prefix + ".qweight", DType::kI8, {rows, cols}, std::move(q), true);
    add(qw, prefix + ".scales", DType::kF16, {rows}, std::move(sb), true);
    add_f32(fw, float_name, {rows, cols}, deq, false);
  };

  QuantizationConfig& qc = o.config;
  const bool fill_layers = qc.layers.empty();
  for (const ExpectedTensor& e : ExpectedTensors(c)) {
    absl::StatusOr<TensorView> t = src->tensors->Get(e.name);
    ASSERT_TRUE(t.ok()) << t.status();
    std::vector<float> w = ToFloat32Vector(*t);
    if (e.name == kEmbeddingName && qc.embedding_bits == 8) {
      add_int8("model.embed_tokens", w, e.shape[0], e.shape[1], e.name);
      continue;
    }
    if (e.name == kLmHeadName && qc.lm_head_bits == 8) {
      add_int8("lm_head", w, e.shape[0], e.shape[1], e.name);
      continue;
    }
    const std::string prefix = QuantizedTensorPrefix(e.name);
    const bool is_linear = e.shape.size() == 2 && e.name != kEmbeddingName && e.name != kLmHeadName;
    bool keep = !is_linear;
    for (const std::string& k : o.keep_float) keep = keep || EndsWith(prefix, k);
    if (keep) {
      add_f32(qw, e.name, e.shape, w, true);
      add_f32(fw, e.name, e.shape, w, false);
      continue;
    }
    const int64_t rows = e.shape[0], cols = e.shape[1];
    WeightFormat format = fill_layers ? qc.weights : qc.layers.at(prefix);
    for (const auto& [suffix, f] : o.overrides) {
      if (EndsWith(prefix, suffix)) format = f;
    }
    if (fill_layers) qc.layers[prefix] = format;
    const RotationSpec* rot = qc.LayerRotation(prefix);
    std::optional<Rotation> q;
    if (rot != nullptr) {
      ASSERT_EQ(rot->kind, RotationSpec::Kind::kHadamard);
      q = Rotation::Hadamard(cols, rot->seed);
      RotateWeightInputs(*q, w);  // stored W' = W Q^T
    }
    absl::StatusOr<QuantizedLinear> ql = QuantizeRtn(w, rows, cols, format);
    ASSERT_TRUE(ql.ok()) << ql.status();
    packed.push_back(*std::move(ql));
    std::vector<float> deq = DequantizeLinear(packed.back().view());
    if (q) {
      // The float layer that computes deq(W') Q x: row r is (Q^T deq_r)^T.
      for (int64_t r = 0; r < rows; ++r) q->ApplyTranspose({deq.data() + r * cols, size_t(cols)});
    }
    add_f32(fw, e.name, e.shape, deq, false);
    // Re-add the packed tensors through `add` so tests can edit them.
    SafetensorsWriter tmp;
    ASSERT_TRUE(AddQuantizedLinear(tmp, prefix, packed.back()).ok());
    for (const std::string& name : tmp.TensorNames()) {
      const QuantizedLinear& p = packed.back();
      std::string suffix = name.substr(prefix.size());
      std::vector<std::byte> data;
      DType dtype = DType::kU8;
      std::vector<int64_t> shape;
      auto copy = [&](const auto& v) {
        data.resize(v.size() * sizeof(v[0]));
        std::memcpy(data.data(), v.data(), data.size());
      };
      if (suffix == ".qweight") {
        copy(p.qweight);
        shape = {rows, p.layout.qweight_row_bytes};
      } else if (suffix == ".scales") {
        copy(p.scales);
        dtype = DType::kF16;
        shape = {rows, p.layout.num_groups};
      } else if (suffix == ".zeros") {
        copy(p.zeros);
        dtype = DType::kF16;
        shape = {rows, p.layout.num_groups};
      } else {
        copy(p.mask);
        shape = {rows, p.layout.mask_row_bytes};
      }
      add(qw, name, dtype, shape, std::move(data), true);
    }
  }
  ModelConfig qconfig = c;
  qconfig.quantization_config_json = QuantizationConfigToJson(qc);
  absl::Status s = WriteModelFiles(qdir, qconfig, qw);
  ASSERT_TRUE(s.ok()) << s;
  if (!deq_dir.empty()) {
    s = WriteModelFiles(deq_dir, c, fw);
    ASSERT_TRUE(s.ok()) << s;
  }
}

}  // namespace accllm::testing

#endif  // ACCLLM_TESTS_WORKERS_ENGINE_QUANTIZED_DIR_FIXTURE_H_
