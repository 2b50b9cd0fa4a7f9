// The 8-bit embedding and head. The head packs the int8 weights of two rows on one DSP's A
// port times the shared int8 activation (kPackInt8Rows, Xilinx's INT8 packing), draining P
// every max_macs columns; the dot products are exact int32, then dequantized in the CPU
// engine's order: y = float(dot) * scale[r] * x_scale (Int8RowMatrix::ApplyBatch).
#include "workers/fpga/kernels/int8_table.h"

#include "workers/fpga/kernels/dsp_packing.h"  // Dsp48Mac, PackA, ExtractLanes, kPackInt8Rows
#include "workers/fpga/kernels/fp16.h"         // HalfAt
#include "workers/fpga/kernels/hls.h"          // ACCLLM_HLS
#include "workers/fpga/kernels/rce_linear.h"   // kMmTileTokens

namespace accllm::fpga {

void Int8EmbeddingRow(const DeviceMemory& mem, const Int8TableDesc& t, int32_t r, float* out) {
  const uint64_t cols = static_cast<uint64_t>(t.cols);
  const int8_t* q = mem.ReadPart<int8_t>(t.values, static_cast<uint64_t>(r) * cols, cols);
  const float scale = HalfAt(mem.ReadPart<uint8_t>(t.scales, static_cast<uint64_t>(r) * 2, 2), 0);
  for (int32_t c = 0; c < t.cols; ++c) {
    ACCLLM_HLS(PIPELINE II = 1)
    out[c] = scale * static_cast<float>(q[c]);
  }
}

namespace {

constexpr int32_t kRowLanes = 2;  // kPackInt8Rows.lanes

// Rows [r0, r0 + lanes) for the tokens [0, tokens) of one tile.
void HeadRowPair(const DeviceMemory& mem, const Int8TableDesc& t, int32_t r0, int32_t lanes,
                 const int8_t* x, const float* x_scale, int32_t tokens, float* y) {
  const DspPacking& pk = kPackInt8Rows;
  const uint64_t cols = static_cast<uint64_t>(t.cols);
  const int8_t* q[kRowLanes] = {};
  float scale[kRowLanes] = {};
  for (int32_t l = 0; l < lanes; ++l) {
    const uint64_t r = static_cast<uint64_t>(r0 + l);
    q[l] = mem.ReadPart<int8_t>(t.values, r * cols, cols);
    scale[l] = HalfAt(mem.ReadPart<uint8_t>(t.scales, r * 2, 2), 0);
  }
  for (int32_t i = 0; i < tokens; ++i) {
    const int8_t* xi = x + static_cast<int64_t>(i) * t.cols;
    int32_t dot[kRowLanes] = {};
    for (int32_t c0 = 0; c0 < t.cols; c0 += pk.max_macs) {
      const int32_t c1 = c0 + pk.max_macs < t.cols ? c0 + pk.max_macs : t.cols;
      int64_t p = 0;
      for (int32_t c = c0; c < c1; ++c) {
        ACCLLM_HLS(PIPELINE II = 1)
        int32_t v[kDspMaxLanes] = {};
        for (int32_t l = 0; l < lanes; ++l) v[l] = q[l][c];
        p = Dsp48Mac(p, PackA(pk, v), xi[c]);
      }
      int32_t lane[kDspMaxLanes];
      ExtractLanes(pk, p, lane);
      for (int32_t l = 0; l < lanes; ++l) dot[l] += lane[l];
    }
    for (int32_t l = 0; l < lanes; ++l) {
      y[static_cast<int64_t>(i) * t.rows + r0 + l] =
          static_cast<float>(dot[l]) * scale[l] * x_scale[i];
    }
  }
}

}  // namespace

void Int8Head(const DeviceMemory& mem, const Int8TableDesc& t, const int8_t* x,
              const float* x_scale, int32_t tokens, float* y) {
  ACCLLM_HLS(INTERFACE m_axi port = x offset = slave bundle = gmem_act)
  ACCLLM_HLS(INTERFACE m_axi port = y offset = slave bundle = gmem_act)
  for (int32_t t0 = 0; t0 < tokens; t0 += kMmTileTokens) {
    const int32_t n = tokens - t0 < kMmTileTokens ? tokens - t0 : kMmTileTokens;
    for (int32_t r = 0; r < t.rows; r += kRowLanes) {
      const int32_t lanes = t.rows - r < kRowLanes ? t.rows - r : kRowLanes;
      HeadRowPair(mem, t, r, lanes, x + static_cast<int64_t>(t0) * t.cols, x_scale + t0, n,
                  y + static_cast<int64_t>(t0) * t.rows);
    }
  }
}

}  // namespace accllm::fpga
