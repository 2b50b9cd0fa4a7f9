// The 8-bit embedding and LM head on the card (quant/int8_rows.h's storage: I8 values
// [rows, cols] and one fp16 scale per row). The head multiplies A8 activations by the int8
// rows (exact int32 dot products, dequantized with scale[r] * x_scale), bit-exact with the CPU
// engine's Int8RowMatrix::ApplyBatch under A8; an embedding row is scale[r] * q[r, c] as
// Int8RowMatrix::Row gives it.
#ifndef ACCLLM_WORKERS_FPGA_KERNELS_INT8_TABLE_H_
#define ACCLLM_WORKERS_FPGA_KERNELS_INT8_TABLE_H_

#include <cstdint>

#include "workers/fpga/kernels/device_memory.h"  // DeviceMemory, DeviceRef

namespace accllm::fpga {

struct Int8TableDesc {
  int32_t rows = 0, cols = 0;
  DeviceRef values;  // int8 [rows, cols]
  DeviceRef scales;  // fp16 bits [rows]

  uint64_t bytes() const { return values.bytes + scales.bytes; }
};

// out [cols] = row r (reads one row and its scale).
void Int8EmbeddingRow(const DeviceMemory& mem, const Int8TableDesc& t, int32_t r, float* out);

// y [tokens, rows] = T x for A8 x [tokens, cols] with scales x_scale [tokens]; MV/MM as in
// rce_linear.h (the table is streamed once per tile of tokens).
void Int8Head(const DeviceMemory& mem, const Int8TableDesc& t, const int8_t* x,
              const float* x_scale, int32_t tokens, float* y);

}  // namespace accllm::fpga

#endif  // ACCLLM_WORKERS_FPGA_KERNELS_INT8_TABLE_H_
