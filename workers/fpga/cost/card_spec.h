// The data of an FPGA card that the cost model needs, each number with where it comes from.
// Only published figures go here (data sheets, measurements in papers); what the model derives
// from them lives in cost_model.cc.
#ifndef ACCLLM_WORKERS_FPGA_COST_CARD_SPEC_H_
#define ACCLLM_WORKERS_FPGA_COST_CARD_SPEC_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"  // absl::StatusOr

namespace accllm::fpga {

// One input of the model, printed by `accllm fpga-model` so every figure can be traced.
struct Assumption {
  std::string name;    // "hbm_measured_bandwidth"
  std::string value;   // "425 GB/s"
  std::string source;  // "Shuhai (Wang et al., FCCM 2020): ..."
};

struct CardSpec {
  std::string name;                    // "u280"
  int64_t hbm_bytes = 0;               // HBM capacity
  int32_t hbm_pseudo_channels = 0;     // independent AXI ports onto HBM
  double hbm_peak_bytes_per_s = 0;     // data-sheet peak
  double hbm_measured_bytes_per_s = 0; // best measured streaming bandwidth (all channels)
  int32_t dsp_slices = 0;              // DSP48E2 slices on the device
  int32_t dsp_port_a_bits = 27;        // DSP48E2 multiplier: 27 x 18 (A:D pre-adder path x B)
  int32_t dsp_port_b_bits = 18;
  int32_t dsp_accumulator_bits = 48;   // P register
  double default_clock_hz = 0;         // kernel clock the reference designs closed timing at
  double launch_overhead_s = 0;        // one XRT kernel launch, host to completion
  double default_board_power_w = 0;    // typical board power while decoding
  std::vector<Assumption> sources;     // every number above, with its source
};

// "u280" (Xilinx Alveo U280). Errors list the known cards.
absl::StatusOr<CardSpec> LookupCard(std::string_view name);
std::vector<std::string> KnownCardNames();

}  // namespace accllm::fpga

#endif  // ACCLLM_WORKERS_FPGA_COST_CARD_SPEC_H_
