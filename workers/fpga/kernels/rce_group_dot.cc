#include "workers/fpga/kernels/rce_group_dot.h"

#include "workers/fpga/kernels/dsp_packing.h"  // Dsp48Mac, PackA, ExtractLanes, kPack*
#include "workers/fpga/kernels/hls.h"          // ACCLLM_HLS

namespace accllm::fpga {
namespace {

// Code j of a packed row (quant/bit_pack.h's little-endian bitstream); touches the next byte
// only when the code spans it, so it never reads past the row.
inline uint32_t CodeAt(const uint8_t* row, int64_t j, int32_t bits) {
  const int64_t bit = j * bits;
  const int32_t shift = static_cast<int32_t>(bit & 7);
  uint32_t word = row[bit >> 3];
  if (shift + bits > 8) word |= static_cast<uint32_t>(row[(bit >> 3) + 1]) << 8;
  return (word >> shift) & ((1u << bits) - 1);
}

// Calls f(column, code) for each stored weight of `row` in columns [begin, end), in column
// order. Dense: every column, stored index = column. 2:4: the kept columns of each block of 4
// (the group starts on a block, holding begin / 2 stored weights before it).
template <typename F>
inline void ForStoredWeights(const LinearDesc& w, const RceRow& row, int64_t begin, int64_t end,
                             F&& f) {
  if (!w.sparse24) {
    for (int64_t c = begin; c < end; ++c) {
      ACCLLM_HLS(PIPELINE II = 1)
      f(c, CodeAt(row.qweight, c, w.bits));
    }
    return;
  }
  int64_t j = begin / 2;
  for (int64_t k = begin / 4; k < end / 4; ++k) {
    ACCLLM_HLS(PIPELINE II = 1)
    const uint32_t m = (row.mask[k / 2] >> (4 * (k % 2))) & 0xF;
    for (int32_t i = 0; i < 4; ++i) {
      ACCLLM_HLS(UNROLL)
      if ((m >> i) & 1) f(4 * k + i, CodeAt(row.qweight, j++, w.bits));
    }
  }
}

// Dense uniform W2/W3/W4: the codes of `lanes` rows at one column share that column's
// activation; P is drained into the int32 sums every max_macs columns (the guard bound).
void DenseRowLanes(const LinearDesc& w, const RceRow* rows, int32_t lanes, int64_t begin,
                   int64_t end, const RceTile& tile, RceGroupSums* sums) {
  const DspPacking& pk = w.bits == 2 ? kPackW2Rows : kPackW4Rows;
  for (int32_t t = 0; t < tile.tokens; ++t) {
    const int8_t* xt = tile.x + static_cast<int64_t>(t) * w.cols;
    int32_t acc[kRceMaxRowLanes] = {};
    ACCLLM_HLS(ARRAY_PARTITION variable = acc complete)
    int32_t xsum = 0;
    for (int64_t c0 = begin; c0 < end; c0 += pk.max_macs) {
      const int64_t c1 = c0 + pk.max_macs < end ? c0 + pk.max_macs : end;
      int64_t p = 0;
      for (int64_t c = c0; c < c1; ++c) {
        ACCLLM_HLS(PIPELINE II = 1)
        int32_t v[kDspMaxLanes] = {};
        for (int32_t l = 0; l < lanes; ++l) {
          ACCLLM_HLS(UNROLL)
          v[l] = static_cast<int32_t>(CodeAt(rows[l].qweight, c, w.bits));
        }
        p = Dsp48Mac(p, PackA(pk, v), xt[c]);
        xsum += xt[c];
      }
      int32_t lane[kDspMaxLanes];
      ExtractLanes(pk, p, lane);
      for (int32_t l = 0; l < lanes; ++l) acc[l] += lane[l];
    }
    for (int32_t l = 0; l < lanes; ++l) {
      sums->acc[l][t] = acc[l];
      sums->xsum[l][t] = xsum;
    }
  }
}

// 2:4 uniform W2/W3/W4, one row: the activations of tokens (t, t + 1) on A, the kept code on B.
void SparseTokenLanes(const LinearDesc& w, const RceRow& row, int64_t begin, int64_t end,
                      const RceTile& tile, RceGroupSums* sums) {
  const DspPacking& pk = kPackTokens;
  for (int32_t t = 0; t < tile.tokens; t += 2) {
    const int8_t* x0 = tile.x + static_cast<int64_t>(t) * w.cols;
    const int8_t* x1 = t + 1 < tile.tokens ? x0 + w.cols : nullptr;  // odd tile: lane 1 idle
    int32_t acc[2] = {}, xs[2] = {};
    int64_t p = 0;
    int32_t n = 0;
    int32_t lane[kDspMaxLanes];
    ForStoredWeights(w, row, begin, end, [&](int64_t c, uint32_t code) {
      const int32_t v[kDspMaxLanes] = {x0[c], x1 != nullptr ? x1[c] : 0, 0};
      p = Dsp48Mac(p, PackA(pk, v), static_cast<int64_t>(code));
      xs[0] += v[0];
      xs[1] += v[1];
      if (++n == pk.max_macs) {
        ExtractLanes(pk, p, lane);
        acc[0] += lane[0];
        acc[1] += lane[1];
        p = 0;
        n = 0;
      }
    });
    ExtractLanes(pk, p, lane);
    acc[0] += lane[0];
    acc[1] += lane[1];
    sums->acc[0][t] = acc[0];
    sums->xsum[0][t] = xs[0];
    if (x1 != nullptr) {
      sums->acc[0][t + 1] = acc[1];
      sums->xsum[0][t + 1] = xs[1];
    }
  }
}

// Uniform W8 (dense or 2:4), one row: one 8 x 8-bit product per DSP, accumulated in P (a
// group's sum, below 2^16 * 255 * 128 < 2^47, never wraps it).
void SingleProducts(const LinearDesc& w, const RceRow& row, int64_t begin, int64_t end,
                    const RceTile& tile, RceGroupSums* sums) {
  for (int32_t t = 0; t < tile.tokens; ++t) {
    const int8_t* xt = tile.x + static_cast<int64_t>(t) * w.cols;
    int64_t p = 0;
    int32_t xsum = 0;
    ForStoredWeights(w, row, begin, end, [&](int64_t c, uint32_t code) {
      p = Dsp48Mac(p, static_cast<int64_t>(code), xt[c]);
      xsum += xt[c];
    });
    sums->acc[0][t] = static_cast<int32_t>(p);
    sums->xsum[0][t] = xsum;
  }
}

// Pow2 (dense or 2:4), one row: code = sign bit | exponent; the product is a shift.
void Pow2Shifts(const LinearDesc& w, const RceRow& row, int64_t begin, int64_t end,
                const RceTile& tile, RceGroupSums* sums) {
  const uint32_t exp_mask = (1u << (w.bits - 1)) - 1;
  for (int32_t t = 0; t < tile.tokens; ++t) {
    const int8_t* xt = tile.x + static_cast<int64_t>(t) * w.cols;
    int32_t acc = 0;
    ForStoredWeights(w, row, begin, end, [&](int64_t c, uint32_t code) {
      const int32_t shifted = static_cast<int32_t>(xt[c]) << (code & exp_mask);
      acc += ((code >> (w.bits - 1)) & 1) ? -shifted : shifted;
    });
    sums->acc[0][t] = acc;
    sums->xsum[0][t] = 0;
  }
}

}  // namespace

int32_t RceRowLanes(const LinearDesc& w) {
  if (w.pow2 || w.sparse24 || w.bits > 4) return 1;
  return w.bits == 2 ? kPackW2Rows.lanes : kPackW4Rows.lanes;
}

void RceGroupDot(const LinearDesc& w, const RceRow* rows, int32_t lanes, int64_t begin, int64_t end,
                 const RceTile& tile, RceGroupSums* sums) {
  if (w.pow2) {
    Pow2Shifts(w, rows[0], begin, end, tile, sums);
  } else if (w.bits > 4) {
    SingleProducts(w, rows[0], begin, end, tile, sums);
  } else if (w.sparse24) {
    SparseTokenLanes(w, rows[0], begin, end, tile, sums);
  } else {
    DenseRowLanes(w, rows, lanes, begin, end, tile, sums);
  }
}

}  // namespace accllm::fpga
