// Reading an 8-bit table (the embedding or the LM head of a quantized model) from a model
// directory: "<prefix>.qweight" I8 [rows, cols] and "<prefix>.scales" F16 [rows], checked for
// dtype, shape, finite non-negative scales and values in -127..127. Errors name the tensor.
// Every backend reads its tables through this one function.
#ifndef ACCLLM_QUANT_INT8_ROWS_IO_H_
#define ACCLLM_QUANT_INT8_ROWS_IO_H_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"  // absl::StatusOr
#include "model/tensor_store.h"    // TensorStore

namespace accllm {

struct Int8TableView {
  std::span<const int8_t> values;  // [rows, cols], in the mapping (any alignment)
  std::vector<uint16_t> scales;    // [rows] fp16 bits, copied (an F16 tensor may be misaligned)
  std::vector<float> scale_f;      // [rows] decoded
};

absl::StatusOr<Int8TableView> ReadInt8Table(const TensorStore& store, std::string_view prefix,
                                            int64_t rows, int64_t cols);

}  // namespace accllm

#endif  // ACCLLM_QUANT_INT8_ROWS_IO_H_
