// Several low-bit products in one DSP48E2, modeled in exact integer arithmetic.
//
// A DSP48E2 multiplies its 27-bit signed A port by its 18-bit signed B port (a 45-bit
// product) and adds the product to its 48-bit P register. Packing `lanes` small values v_i at
// bit offsets i * shift of A, A = sum_i v_i 2^(i shift), and one shared value b on B gives
//   P = sum_i (v_i b) 2^(i shift)
// so one multiply yields `lanes` products. P keeps accumulating further packed products; the
// lanes are then separated from the low end up: lane i is the low `shift` bits of what is
// left, sign-extended (the sign correction: a negative lower lane borrowed one from the lane
// above), and that value is subtracted before shifting down.
//
// Guard-bit bound: lane i < lanes - 1 is recovered exactly when its accumulated sum stays in
// [-2^(shift-1), 2^(shift-1) - 1]. With every product in [-max_neg, max_pos] that holds for
//   max_macs = min(floor((2^(shift-1) - 1) / max_pos), floor(2^(shift-1) / max_neg))
// accumulations before extraction. The top lane only needs P's 48 bits. Each packing below
// states its operand ranges and its bound; the tests check every operand combination and the
// extreme sums at the bound (and that one more accumulation can break it).
#ifndef ACCLLM_WORKERS_FPGA_KERNELS_DSP_PACKING_H_
#define ACCLLM_WORKERS_FPGA_KERNELS_DSP_PACKING_H_

#include <cstdint>

namespace accllm::fpga {

inline constexpr int kDspAWidth = 27;  // multiplier's A input (after the pre-adder)
inline constexpr int kDspBWidth = 18;
inline constexpr int kDspPWidth = 48;  // accumulator register
inline constexpr int kDspMaxLanes = 3;

// Two's-complement wrap of v to `width` bits (what a port of that width sees).
inline constexpr int64_t SignExtend(int64_t v, int width) {
  const uint64_t m = uint64_t{1} << (width - 1);
  const uint64_t u = static_cast<uint64_t>(v) & ((m << 1) - 1);
  return static_cast<int64_t>(u ^ m) - static_cast<int64_t>(m);
}

// One DSP48E2 cycle: P + A * B with A and B wrapped to their ports and P to 48 bits.
inline int64_t Dsp48Mac(int64_t p, int64_t a, int64_t b) {
  const int64_t product = SignExtend(a, kDspAWidth) * SignExtend(b, kDspBWidth);  // 45 bits
  return SignExtend(p + product, kDspPWidth);
}

struct DspPacking {
  int32_t lanes = 1;
  int32_t shift = 0;     // bit distance between lanes on A (and in P)
  int32_t max_macs = 1;  // accumulations before the lanes must be extracted (guard bound)
};

inline constexpr int32_t GuardMacs(int32_t shift, int64_t max_pos, int64_t max_neg) {
  const int64_t pos = ((int64_t{1} << (shift - 1)) - 1) / max_pos;
  const int64_t neg = (int64_t{1} << (shift - 1)) / max_neg;
  return static_cast<int32_t>(pos < neg ? pos : neg);
}

// Uniform W3/W4 codes (0..15) of two rows on A, one int8 activation (-128..127) on B:
// products in [-1920, 1905], 18-bit lanes, 68 accumulations.
inline constexpr DspPacking kPackW4Rows = {2, 18, GuardMacs(18, 15 * 127, 15 * 128)};
// Uniform W2 codes (0..3) of three rows on A (offsets 0, 12, 24: 3 * 2^24 < 2^26), one int8
// activation on B: products in [-384, 381], 12-bit lanes, 5 accumulations.
inline constexpr DspPacking kPackW2Rows = {3, 12, GuardMacs(12, 3 * 127, 3 * 128)};
// The int8 activations of two tokens on A, one uniform code (0..15) on B (the 2:4 path, where
// rows keep different columns but the tokens of a tile share every weight): as kPackW4Rows.
inline constexpr DspPacking kPackTokens = {2, 18, GuardMacs(18, 15 * 127, 15 * 128)};
// Int8 weights (-128..127) of two rows on A, one int8 activation on B (the 8-bit head):
// products in [-16256, 16384], 18-bit lanes, 7 accumulations.
inline constexpr DspPacking kPackInt8Rows = {2, 18, GuardMacs(18, 128 * 128, 128 * 127)};

// A = sum_i v[i] 2^(i shift) for i < k.lanes (v signed or unsigned small values).
inline int64_t PackA(const DspPacking& k, const int32_t* v) {
  int64_t a = 0;
  for (int32_t i = 0; i < k.lanes; ++i)
    a += static_cast<int64_t>(v[i]) * (int64_t{1} << (i * k.shift));
  return a;
}

// P -> the per-lane sums out[k.lanes] (exact within the guard bound).
void ExtractLanes(const DspPacking& k, int64_t p, int32_t* out);

}  // namespace accllm::fpga

#endif  // ACCLLM_WORKERS_FPGA_KERNELS_DSP_PACKING_H_
