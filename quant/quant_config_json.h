// The JSON of one entry of config.json's "quantization_config" block:
//   layer:  {"bits": 2, "scheme": "uniform", "group_size": 64, "sparsity": "2:4",
//            "zero_point": "integer"}   (zero_point: uniform only; absent = "fractional")
//   kv:     {"bits": 4, "rotate_keys": true, "sink_tokens": 4}
// Parsing is strict: unknown fields, wrong types and out-of-range values are errors that name
// the field, prefixed by `where` (e.g. "config.json: quantization_config.layers[\"...\"]").
// Missing fields take the defaults of WeightFormat / KvFormat.
#ifndef ACCLLM_QUANT_QUANT_CONFIG_JSON_H_
#define ACCLLM_QUANT_QUANT_CONFIG_JSON_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"  // absl::StatusOr
#include "quant/kv_quant.h"        // KvFormat
#include "quant/weight_format.h"   // WeightFormat

namespace accllm {

std::string WeightFormatToJson(const WeightFormat& format);
absl::StatusOr<WeightFormat> ParseWeightFormatJson(std::string_view json_text,
                                                   std::string_view where);

std::string KvFormatToJson(const KvFormat& format);
absl::StatusOr<KvFormat> ParseKvFormatJson(std::string_view json_text, std::string_view where);

}  // namespace accllm

#endif  // ACCLLM_QUANT_QUANT_CONFIG_JSON_H_
