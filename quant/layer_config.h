// Per-layer choices for `accllm quantize --layer-config FILE` (two-level mixed quantization,
// M^2-ViT style: precision and scheme per layer). The file is JSON:
//   {"default": {"bits": 4, "group_size": 64},
//    "layers": {"model.layers.*.mlp.down_proj": {"bits": 8, "scheme": "uniform"},
//               "model.layers.0.self_attn.q_proj": "float"}}
// An entry has optional fields bits, scheme ("uniform" | "pow2"), group_size, sparsity
// ("dense" | "2:4"), zero_point ("auto" | "fractional" | "integer"), method ("rtn" | "gptq") and
// rotate (bool); a missing field keeps the value of
// "default", which itself starts from the command-line flags. Keys are layer prefixes (the weight
// name without ".weight") or globs with '*' (any run of characters) and '?'; an exact key wins
// over globs, and among globs the first listed in the file wins. "float" keeps the layer
// unquantized.
#ifndef ACCLLM_QUANT_LAYER_CONFIG_H_
#define ACCLLM_QUANT_LAYER_CONFIG_H_

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"    // absl::Status
#include "absl/status/statusor.h"  // absl::StatusOr
#include "quant/weight_format.h"   // WeightFormat

namespace accllm {

enum class QuantMethod { kRtn, kGptq };
std::string_view QuantMethodName(QuantMethod method);  // "rtn" | "gptq"
absl::StatusOr<QuantMethod> ParseQuantMethod(std::string_view name);

// What the quantizer does with one linear.
struct LayerPlan {
  bool keep_float = false;
  // format.zero_point is what `zero_point` resolves to (LayerConfig::PlanFor does it).
  WeightFormat format;
  // Unset = auto: integer for uniform 2:4 layers (the 2:4 CPU kernel then skips a per-row
  // activation sum), fractional otherwise (a slightly closer fit).
  std::optional<ZeroPoint> zero_point;
  QuantMethod method = QuantMethod::kGptq;
  bool rotate = false;
};

// One entry of the file: the fields it sets.
struct LayerOverride {
  bool keep_float = false;
  std::optional<int> bits;
  std::optional<WeightScheme> scheme;
  std::optional<int> group;
  std::optional<Sparsity> sparsity;
  std::optional<std::optional<ZeroPoint>> zero_point;  // set to nullopt = "auto"
  std::optional<QuantMethod> method;
  std::optional<bool> rotate;

  LayerPlan ApplyTo(LayerPlan plan) const;
};

struct LayerConfig {
  std::optional<LayerOverride> default_entry;
  std::vector<std::pair<std::string, LayerOverride>> layers;  // in file order

  // The plan of `prefix` given the command line's plan `base`, its zero point resolved.
  LayerPlan PlanFor(std::string_view prefix, const LayerPlan& base) const;
  // Every key matches at least one of `prefixes` (a typo must not silently do nothing):
  // InvalidArgument naming the key otherwise.
  absl::Status CheckKeysMatch(const std::vector<std::string>& prefixes) const;
};

// What an unset (auto) zero point means for `format`.
ZeroPoint AutoZeroPoint(const WeightFormat& format);
// plan.format.zero_point = plan.zero_point, or AutoZeroPoint when unset.
LayerPlan ResolveZeroPoint(LayerPlan plan);

// '*' matches any run of characters (dots included), '?' one character.
bool GlobMatch(std::string_view pattern, std::string_view text);

// Strict: unknown fields, wrong types and bad values are errors naming the key and field,
// prefixed by `where`.
absl::StatusOr<LayerConfig> ParseLayerConfig(std::string_view json_text, std::string_view where);
absl::StatusOr<LayerConfig> ReadLayerConfigFile(const std::filesystem::path& path);

}  // namespace accllm

#endif  // ACCLLM_QUANT_LAYER_CONFIG_H_
