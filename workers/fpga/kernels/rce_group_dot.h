// The RCE's integer inner products over one quantization group: for a block of rows and the
// tokens of one tile, acc = sum CodeToInt(code) * x and xsum = sum x over each row's stored
// weights (quant/reference_matvec.h's per-group integers). How the products are formed
// depends on the format:
//   uniform W2/W3/W4 dense: the codes of 2 (W3/W4) or 3 (W2) rows packed on one DSP's A port,
//       times the activation they share (kPackW4Rows / kPackW2Rows);
//   uniform W2/W3/W4 2:4:   rows keep different columns, so instead the activations of two
//       tokens of the tile are packed, times the code they share (kPackTokens);
//   uniform W8:             one 8-bit product per DSP;
//   pow2:                   no multiply: the activation shifted by the exponent, negated by the
//       sign bit (M^2-ViT's power-of-two scheme).
// 2:4 walks only the kept weights (the mask selects each one's activation), so it does half
// the work of dense.
#ifndef ACCLLM_WORKERS_FPGA_KERNELS_RCE_GROUP_DOT_H_
#define ACCLLM_WORKERS_FPGA_KERNELS_RCE_GROUP_DOT_H_

#include <cstdint>

#include "workers/fpga/kernels/rce_linear.h"  // LinearDesc, kMmTileTokens

namespace accllm::fpga {

inline constexpr int32_t kRceMaxRowLanes = 3;

// One row's tensors as read from HBM into the kernel (byte pointers: fp16 values are read
// little-endian, so no alignment is needed).
struct RceRow {
  const uint8_t* qweight = nullptr;  // [qweight_row_bytes]
  const uint8_t* scales = nullptr;   // fp16 [num_groups]
  const uint8_t* zeros = nullptr;    // fp16 [num_groups]; null for pow2
  const uint8_t* mask = nullptr;     // [mask_row_bytes]; null for dense
};

// The activations of one tile: x [tokens, cols] int8, tokens <= kMmTileTokens.
struct RceTile {
  const int8_t* x = nullptr;
  int32_t tokens = 0;
};

struct RceGroupSums {
  int32_t acc[kRceMaxRowLanes][kMmTileTokens];
  int32_t xsum[kRceMaxRowLanes][kMmTileTokens];  // uniform only
};

// Rows the RCE processes together for this format (the rows sharing one DSP).
int32_t RceRowLanes(const LinearDesc& w);

// Group [begin, end) of rows[0 .. lanes) (lanes <= RceRowLanes(w)) for every token of the
// tile -> sums->acc / xsum [lane][token].
void RceGroupDot(const LinearDesc& w, const RceRow* rows, int32_t lanes, int64_t begin, int64_t end,
                 const RceTile& tile, RceGroupSums* sums);

}  // namespace accllm::fpga

#endif  // ACCLLM_WORKERS_FPGA_KERNELS_RCE_GROUP_DOT_H_
