// config.json's "quantization_config" block: which linears are quantized and how, the
// activation and KV precision, online input rotations, and the embedding / head precision.
// The one schema shared by `accllm quantize` (writer) and the engine (reader):
//
//   "quantization_config": {
//     "quant_method": "accllm", "version": 1,
//     "weights": {"bits": 2, "scheme": "uniform", "group_size": 64, "sparsity": "dense",
//                 "zero_point": "fractional"},
//     "layers": {"model.layers.0.self_attn.q_proj": {"bits": 2, ...}, ...},
//     "activations": {"bits": 8},
//     "kv_cache": {"bits": 4, "rotate_keys": true, "sink_tokens": 4},
//     "rotations": {"model.layers.0.mlp.down_proj": {"kind": "hadamard", "seed": 7},
//                   "model.layers.1.mlp.down_proj": {"kind": "matrix"}},
//     "embedding": {"bits": 8}, "lm_head": {"bits": 8}
//   }
//
// - `layers` is the complete map of quantized linears, keyed by the tensor prefix (the weight's
//   name without ".weight"); a linear absent from it stays float. `weights` is the default the
//   quantizer used (informative only).
// - `activations.bits`: 8 (A8, per-token symmetric int8) or 16 (float activations).
// - `rotations`: the stored weight is W' = W Q^T and the engine computes W' (Q x). Q is
//   Rotation::Hadamard(cols, seed) or, for "matrix", the F32 tensor "<prefix>.rotation" [cols,
//   cols].
// - `embedding` / `lm_head` bits: 8 = int8 per-row symmetric ("<name>.qweight" I8 [rows, dim] +
//   "<name>.scales" F16 [rows]); 16 or 32 = the float ".weight" tensor.
// Parsing is strict: unknown fields, wrong types and out-of-range values are InvalidArgument
// errors naming the field. Missing fields take the defaults below.
#ifndef ACCLLM_QUANT_QUANTIZATION_CONFIG_H_
#define ACCLLM_QUANT_QUANTIZATION_CONFIG_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"  // absl::StatusOr
#include "quant/kv_quant.h"        // KvFormat
#include "quant/weight_format.h"   // WeightFormat

namespace accllm {

inline constexpr std::string_view kAccllmQuantMethod = "accllm";
inline constexpr int kQuantizationConfigVersion = 1;

// The online input rotation of one linear.
struct RotationSpec {
  enum class Kind { kHadamard, kMatrix };
  Kind kind = Kind::kHadamard;
  uint64_t seed = 0;  // kHadamard only

  bool operator==(const RotationSpec&) const = default;
};

// The suffix of the stored rotation matrix of a "matrix" rotation: "<prefix>.rotation".
inline constexpr std::string_view kRotationTensorSuffix = ".rotation";

struct QuantizationConfig {
  int version = kQuantizationConfigVersion;
  WeightFormat weights;                                     // the quantizer's default (informative)
  std::map<std::string, WeightFormat, std::less<>> layers;  // prefix -> format
  int activation_bits = 8;                                  // 8 or 16
  KvFormat kv_cache;                                        // bits 4, 8 or 16
  std::map<std::string, RotationSpec, std::less<>> rotations;  // prefix -> online rotation
  int embedding_bits = 8;                                      // 8, 16 or 32
  int lm_head_bits = 8;                                        // 8, 16 or 32

  bool operator==(const QuantizationConfig&) const = default;

  // The format of a quantized linear, or null when `prefix` stays float.
  const WeightFormat* LayerFormat(std::string_view prefix) const {
    auto it = layers.find(prefix);
    return it == layers.end() ? nullptr : &it->second;
  }
  const RotationSpec* LayerRotation(std::string_view prefix) const {
    auto it = rotations.find(prefix);
    return it == rotations.end() ? nullptr : &it->second;
  }
};

// Every value in range (the checks the parser applies), errors name the field.
absl::Status ValidateQuantizationConfig(const QuantizationConfig& config);

// `json_text` is the block's object (ModelConfig::quantization_config_json); `where` prefixes
// every error (e.g. "model/config.json").
absl::StatusOr<QuantizationConfig> ParseQuantizationConfig(std::string_view json_text,
                                                           std::string_view where);

// The block's JSON object, parseable by ParseQuantizationConfig (round trip exact); store it
// in ModelConfig::quantization_config_json.
std::string QuantizationConfigToJson(const QuantizationConfig& config);

}  // namespace accllm

#endif  // ACCLLM_QUANT_QUANTIZATION_CONFIG_H_
