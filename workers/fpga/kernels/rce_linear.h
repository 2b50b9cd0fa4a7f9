// The reconfigurable compute engine (RCE) for W×A8 linears, AccLLM's two modes in one unit:
//   MV (decode, tokens == 1): each weight word streamed once from its HBM bank, one token;
//   MM (prefill/batched decode, tokens > 1): a tile of up to kMmTileTokens tokens reuses each
//       weight word read, so a tile's tokens cost one pass over the weights.
// Dense and 2:4 (the kernel skips pruned weights), W2/W4/W8 uniform (fractional or integer
// zeros) and power-of-two codes, in the packed layout of quant/weight_format.h exactly as the
// model directory stores it. Results are bit-exact with quant/reference_matvec.h's MatVecA8,
// token by token.
#ifndef ACCLLM_WORKERS_FPGA_KERNELS_RCE_LINEAR_H_
#define ACCLLM_WORKERS_FPGA_KERNELS_RCE_LINEAR_H_

#include <cstdint>

#include "workers/fpga/kernels/device_memory.h"  // DeviceMemory, DeviceRef

namespace accllm::fpga {

inline constexpr int32_t kMmTileTokens = 16;

// One packed linear [rows, cols] on the card (weight_format.h's tensors and sizes).
struct LinearDesc {
  int32_t rows = 0, cols = 0;
  int32_t bits = 2;
  bool pow2 = false;          // power-of-two scheme (no zeros)
  int32_t group = 64;
  bool sparse24 = false;      // 2:4: mask present, two codes stored per block of 4
  bool integer_zero = false;  // uniform zeros are integers 0 .. 2^bits - 1
  int64_t num_groups = 0, qweight_row_bytes = 0, mask_row_bytes = 0;
  DeviceRef qweight, scales, zeros, mask;  // zeros absent for pow2, mask absent for dense

  uint64_t bytes() const { return qweight.bytes + scales.bytes + zeros.bytes + mask.bytes; }
};

// y [tokens, rows] = W x for x [tokens, cols] int8 with per-token scales x_scale [tokens].
// Reads the weights ceil(tokens / kMmTileTokens) times (counted on mem).
void RceLinear(const DeviceMemory& mem, const LinearDesc& w, const int8_t* x,
               const float* x_scale, int32_t tokens, float* y);

}  // namespace accllm::fpga

#endif  // ACCLLM_WORKERS_FPGA_KERNELS_RCE_LINEAR_H_
