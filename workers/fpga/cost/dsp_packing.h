// How many low-bit x activation products one DSP48E2 computes per cycle.
//
// The packing AccLLM and Xilinx WP486 ("Deep Learning with INT8 Optimization on Xilinx Devices")
// use: n weights w_i sit in the 27-bit A:D path at a spacing of s bits (w_0 + w_1 << s + ...),
// the activation x on the 18-bit B port, and the 48-bit product holds the n products
// w_i * x side by side. A product of a w-bit weight and an a-bit activation is w + a bits wide;
// one more guard bit absorbs the borrow a signed lower product takes from the field above
// (WP486's correction), so s = w + a + 1, and n is the largest count with
//   (n - 1) * s + w <= 27   (the packed weights fit the A:D path) and
//   (n - 1) * s + w + a <= 48 (the packed products fit P).
// Products are extracted every cycle and accumulated in fabric adders, so no accumulation guard
// bits are needed in P. Results: W8xA8 2 (WP486), W4xA8 2, W3xA8 3, W2xA8 3, A16 at most 2.
// A power-of-two weight (a sign and an exponent) is counted like a uniform weight of its bits:
// a shift in LUTs would spare the DSP, which only makes the compute bound looser.
#ifndef ACCLLM_WORKERS_FPGA_COST_DSP_PACKING_H_
#define ACCLLM_WORKERS_FPGA_COST_DSP_PACKING_H_

#include "workers/fpga/cost/card_spec.h"  // CardSpec

namespace accllm::fpga {

// Products of a `weight_bits` x `activation_bits` multiply one DSP slice yields per cycle (>= 1).
int ProductsPerDsp(const CardSpec& card, int weight_bits, int activation_bits);

}  // namespace accllm::fpga

#endif  // ACCLLM_WORKERS_FPGA_COST_DSP_PACKING_H_
