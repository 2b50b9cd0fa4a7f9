// A float model directory -> a quantized one (`accllm quantize`): every decoder linear is
// quantized as its LayerPlan says (flags, then --layer-config), optionally behind an online input
// rotation; the embedding and LM head become int8 rows (or stay float); norms stay F32. Writes
// config.json with its quantization_config block (quant/quantization_config.h), the packed
// tensors and a copy of the tokenizer, and reports every layer's held-out output error next to
// RTN's.
#ifndef ACCLLM_QUANT_MODEL_QUANTIZER_H_
#define ACCLLM_QUANT_MODEL_QUANTIZER_H_

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"       // absl::StatusOr
#include "model/model_dir.h"            // ModelDir
#include "quant/calibration.h"          // CalibrationStats
#include "quant/kv_quant.h"             // KvFormat
#include "quant/layer_config.h"         // LayerConfig, LayerPlan
#include "quant/quantization_config.h"  // QuantizationConfig

namespace accllm {

struct ModelQuantizeOptions {
  LayerPlan base;            // from the flags: format, method, rotation
  LayerConfig layer_config;  // per-layer overrides on top of `base`
  double damp_percent = 0.01;
  int activation_bits = 8;  // 8 or 16
  KvFormat kv_cache;        // what the engine will use for K/V
  int embedding_bits = 8;   // 8, 16 or 32
  int lm_head_bits = 8;     // 8, 16 or 32 (ignored when the head is tied to the embedding)
  uint64_t seed = 0;        // rotation seeds derive from it
  int threads = 0;          // linears solved at once (0: one per hardware thread)
};

struct LayerQuantReport {
  std::string prefix;          // model.layers.0.self_attn.q_proj
  std::string format;          // "w2 uniform g64 2:4 gptq rot" or "float"
  double bits_per_weight = 0;  // stored bits (codes, scales, zeros, masks) per weight
  double relative_error = 0;   // held-out relative output error (NaN: no held-out data)
  double rtn_relative_error = 0;
};

struct ModelQuantizeReport {
  std::vector<LayerQuantReport> layers;
  double bits_per_weight = 0;  // over all decoder linear weights (float ones at their dtype)
  QuantizationConfig config;   // as written
};

// Called after each linear: (done, total, prefix); linears are solved in parallel, so in no
// fixed order (calls never overlap).
using QuantizeProgressFn = std::function<void(int, int, std::string_view)>;

// The tensor prefixes of the decoder linears, in model order.
std::vector<std::string> LinearPrefixes(const ModelConfig& config);

// `calibration` may be null (then RTN only, magnitude 2:4, no error report). Errors: the input
// is already quantized, `out` is the input, a bad plan or layer-config key, I/O.
absl::StatusOr<ModelQuantizeReport> QuantizeModel(const ModelDir& in,
                                                  const CalibrationStats* calibration,
                                                  const ModelQuantizeOptions& options,
                                                  const std::filesystem::path& out,
                                                  const QuantizeProgressFn& progress = nullptr);

}  // namespace accllm

#endif  // ACCLLM_QUANT_MODEL_QUANTIZER_H_
