// The RCE's top: tiles of tokens (MV: one token; MM: up to kMmTileTokens), blocks of rows
// (RceRowLanes), each row's tensors read from HBM once per tile, the per-group integers from
// rce_group_dot.h, then the float epilogue in quant/reference_matvec.cc's exact order:
//   out = 0; for each group in order: out += scale * (acc - zero * xsum)   (pow2: scale * acc)
//   y = out * x_scale.
#include "workers/fpga/kernels/rce_linear.h"

#include "workers/fpga/kernels/fp16.h"           // HalfAt
#include "workers/fpga/kernels/hls.h"            // ACCLLM_HLS
#include "workers/fpga/kernels/rce_group_dot.h"  // RceGroupDot, RceRow, RceTile

namespace accllm::fpga {
namespace {

// Row r of every tensor of the linear, each byte counted once.
RceRow ReadRow(const DeviceMemory& mem, const LinearDesc& w, int64_t r) {
  RceRow row;
  const uint64_t q_bytes = static_cast<uint64_t>(w.qweight_row_bytes);
  const uint64_t p_bytes = static_cast<uint64_t>(w.num_groups) * 2;  // fp16 per group
  row.qweight = mem.ReadPart<uint8_t>(w.qweight, r * q_bytes, q_bytes);
  row.scales = mem.ReadPart<uint8_t>(w.scales, r * p_bytes, p_bytes);
  if (w.zeros.present()) row.zeros = mem.ReadPart<uint8_t>(w.zeros, r * p_bytes, p_bytes);
  if (w.sparse24) {
    const uint64_t m_bytes = static_cast<uint64_t>(w.mask_row_bytes);
    row.mask = mem.ReadPart<uint8_t>(w.mask, r * m_bytes, m_bytes);
  }
  return row;
}

// One pass over the weights for tokens [0, tokens) of x (tokens <= kMmTileTokens).
void TilePass(const DeviceMemory& mem, const LinearDesc& w, const int8_t* x, const float* x_scale,
              int32_t tokens, float* y) {
  const int32_t lanes = RceRowLanes(w);
  const RceTile tile{x, tokens};
  for (int64_t rb = 0; rb < w.rows; rb += lanes) {
    const int32_t nl = static_cast<int32_t>(w.rows - rb < lanes ? w.rows - rb : lanes);
    RceRow rows[kRceMaxRowLanes];
    for (int32_t l = 0; l < nl; ++l) rows[l] = ReadRow(mem, w, rb + l);
    float out[kRceMaxRowLanes][kMmTileTokens] = {};
    ACCLLM_HLS(ARRAY_PARTITION variable = out complete dim = 0)
    RceGroupSums sums;
    for (int64_t g = 0; g < w.num_groups; ++g) {
      const int64_t begin = g * w.group;
      const int64_t end = begin + w.group < w.cols ? begin + w.group : w.cols;  // ragged last
      RceGroupDot(w, rows, nl, begin, end, tile, &sums);
      for (int32_t l = 0; l < nl; ++l) {
        const float scale = HalfAt(rows[l].scales, g);
        const float zero = rows[l].zeros != nullptr ? HalfAt(rows[l].zeros, g) : 0.0f;
        for (int32_t t = 0; t < tokens; ++t) {
          ACCLLM_HLS(UNROLL)
          const float acc = static_cast<float>(sums.acc[l][t]);
          out[l][t] +=
              w.pow2 ? scale * acc : scale * (acc - zero * static_cast<float>(sums.xsum[l][t]));
        }
      }
    }
    for (int32_t l = 0; l < nl; ++l) {
      for (int32_t t = 0; t < tokens; ++t)
        y[static_cast<int64_t>(t) * w.rows + rb + l] = out[l][t] * x_scale[t];
    }
  }
}

}  // namespace

void RceLinear(const DeviceMemory& mem, const LinearDesc& w, const int8_t* x, const float* x_scale,
               int32_t tokens, float* y) {
  ACCLLM_HLS(INTERFACE m_axi port = x offset = slave bundle = gmem_act)
  ACCLLM_HLS(INTERFACE m_axi port = y offset = slave bundle = gmem_act)
  ACCLLM_HLS(INTERFACE s_axilite port = tokens)
  for (int32_t t0 = 0; t0 < tokens; t0 += kMmTileTokens) {
    const int32_t n = tokens - t0 < kMmTileTokens ? tokens - t0 : kMmTileTokens;
    TilePass(mem, w, x + static_cast<int64_t>(t0) * w.cols, x_scale + t0, n,
             y + static_cast<int64_t>(t0) * w.rows);
  }
}

}  // namespace accllm::fpga
