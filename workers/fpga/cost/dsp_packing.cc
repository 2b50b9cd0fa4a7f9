#include "workers/fpga/cost/dsp_packing.h"

#include <algorithm>

namespace accllm::fpga {

int ProductsPerDsp(const CardSpec& card, int weight_bits, int activation_bits) {
  const int w = weight_bits;
  const int a = activation_bits;
  // The activation must fit the B port and one weight the A:D path, else it takes several DSPs
  // per product (counted as one: the model does not model wide multiplies).
  if (a > card.dsp_port_b_bits || w > card.dsp_port_a_bits) return 1;
  const int spacing = w + a + 1;
  int n = 1;
  while (n * spacing + w <= card.dsp_port_a_bits &&
         n * spacing + w + a <= card.dsp_accumulator_bits) {
    ++n;
  }
  return std::max(1, n);
}

}  // namespace accllm::fpga
