// Storing a QuantizedLinear in a model directory: safetensors tensors named after the float
// weight they replace, as AutoGPTQ does. For "model.layers.0.self_attn.q_proj.weight":
//   model.layers.0.self_attn.q_proj.qweight  U8   [rows, qweight_row_bytes]
//   model.layers.0.self_attn.q_proj.scales   F16  [rows, num_groups]
//   model.layers.0.self_attn.q_proj.zeros    F16  [rows, num_groups]       (uniform only)
//   model.layers.0.self_attn.q_proj.mask     U8   [rows, mask_row_bytes]   (2:4 only)
// (layouts in weight_format.h). The format itself lives in config.json's quantization_config.
#ifndef ACCLLM_QUANT_QUANTIZED_LINEAR_IO_H_
#define ACCLLM_QUANT_QUANTIZED_LINEAR_IO_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"        // absl::Status
#include "absl/status/statusor.h"      // absl::StatusOr
#include "model/safetensors_writer.h"  // SafetensorsWriter
#include "model/tensor_store.h"        // TensorStore
#include "quant/quantized_linear.h"    // QuantizedLinear
#include "quant/weight_format.h"       // WeightFormat

namespace accllm {

// "x.q_proj.weight" -> "x.q_proj" (a name without ".weight" is returned unchanged).
std::string QuantizedTensorPrefix(std::string_view weight_name);

// Adds prefix.qweight, .scales, and .zeros / .mask when the format has them. The writer
// references q's memory: keep q alive until the writer has written.
absl::Status AddQuantizedLinear(SafetensorsWriter& writer, std::string_view prefix,
                                const QuantizedLinear& q);

// Reads a layer of the expected format and [rows, cols] (from config.json), checking each
// tensor's presence, dtype and shape, that no tensor of another format is present, and every
// packed value (ValidateQuantizedLinear). Errors name the tensor.
absl::StatusOr<QuantizedLinear> ReadQuantizedLinear(const TensorStore& store,
                                                    std::string_view prefix,
                                                    const WeightFormat& format, int64_t rows,
                                                    int64_t cols);

}  // namespace accllm

#endif  // ACCLLM_QUANT_QUANTIZED_LINEAR_IO_H_
