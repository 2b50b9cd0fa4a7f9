#include "workers/fpga/cost/card_spec.h"

#include "absl/strings/str_cat.h"   // absl::StrCat
#include "absl/strings/str_join.h"  // absl::StrJoin

namespace accllm::fpga {
namespace {

CardSpec U280() {
  CardSpec c;
  c.name = "u280";
  // Xilinx DS963 (Alveo U280 data sheet): 8 GB HBM2 in two stacks, 32 pseudo-channels of
  // 256 MB, 460 GB/s total.
  c.hbm_bytes = int64_t{8} << 30;
  c.hbm_pseudo_channels = 32;
  c.hbm_peak_bytes_per_s = 460e9;
  // Shuhai (Z. Wang, H. Huang, J. Zhang, G. Alonso, "Benchmarking High Bandwidth Memory on
  // FPGAs", FCCM 2020; extended in IEEE TC 2021): up to 425 GB/s measured on a U280 with every
  // AXI port streaming its own pseudo-channel in long sequential bursts, i.e. ~13.3 GB/s per
  // channel. Decode streams each weight word once, sequentially, striped over all channels: that
  // access pattern, so this is the bandwidth a well-built decode engine can reach.
  c.hbm_measured_bytes_per_s = 425e9;
  // DS963 / UG579: XCU280 has 9,024 DSP48E2 slices (27 x 18 multiplier, 48-bit accumulator).
  c.dsp_slices = 9024;
  // AccLLM (arXiv 2505.03745) and FlightLLM (FPGA 2024) both report their U280 designs at
  // 225 MHz.
  c.default_clock_hz = 225e6;
  // DESIGN.md ("XRT launches cost tens of us"): a run start + wait round trip over PCIe on an
  // Alveo card is in the tens of microseconds. 30 us is an estimate inside that range, not a
  // measurement of this project; it only matters for small models (bound = launch).
  c.launch_overhead_s = 30e-6;
  // DS963 rates the U280 at 225 W maximum; LLM decode designs draw far less. 45 W is the board
  // power FlightLLM reports for its U280 Llama-2-7B design (as recalled from its evaluation; an
  // assumption to override with --power-w when a measurement exists).
  c.default_board_power_w = 45.0;
  c.sources = {
      {"hbm_capacity", "8 GiB HBM2, 32 pseudo-channels", "Xilinx DS963 (Alveo U280 data sheet)"},
      {"hbm_peak_bandwidth", "460 GB/s", "Xilinx DS963"},
      {"hbm_measured_bandwidth", "425 GB/s (~13.3 GB/s per pseudo-channel)",
       "Shuhai, Wang et al., FCCM 2020: sequential bursts on all 32 AXI ports of a U280"},
      {"dsp_slices", "9024 DSP48E2 (27x18 multiplier, 48-bit P)", "Xilinx DS963 / UG579"},
      {"clock", "225 MHz default", "AccLLM (arXiv 2505.03745) and FlightLLM (FPGA 2024) on U280"},
      {"launch_overhead", "30 us per XRT kernel launch",
       "estimate in the 'tens of us' range DESIGN.md gives for XRT run start/wait over PCIe"},
      {"board_power", "45 W default",
       "FlightLLM's reported U280 decode power (recalled; DS963 max is 225 W); use --power-w"},
  };
  return c;
}

}  // namespace

std::vector<std::string> KnownCardNames() { return {"u280"}; }

absl::StatusOr<CardSpec> LookupCard(std::string_view name) {
  if (name == "u280" || name == "U280") return U280();
  return absl::InvalidArgumentError(absl::StrCat("unknown card \"", std::string(name),
                                                 "\"; known: ", absl::StrJoin(KnownCardNames(), ", ")));
}

}  // namespace accllm::fpga
