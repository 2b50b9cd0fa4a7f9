#include "workers/service/device.h"

#include "absl/strings/numbers.h"   // absl::SimpleAtoi
#include "absl/strings/str_cat.h"   // absl::StrCat
#include "workers/cpu/gemm_a8.h"    // GemvTargetName

namespace accllm {

absl::StatusOr<DeviceSpec> ParseDevice(std::string_view flag) {
  if (flag == "auto") return DeviceSpec{DeviceSpec::Kind::kAuto, 0};
  if (flag == "cpu") return DeviceSpec{DeviceSpec::Kind::kCpu, 0};
  constexpr std::string_view kFpga = "fpga:";
  if (flag.substr(0, kFpga.size()) == kFpga) {
    int index = -1;
    const std::string number(flag.substr(kFpga.size()));
    if (absl::SimpleAtoi(number, &index) && index >= 0) {
      return DeviceSpec{DeviceSpec::Kind::kFpga, index};
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--device \"", std::string(flag), "\": expected auto, cpu or fpga:N (N >= 0)"));
}

absl::StatusOr<DeviceChoice> ChooseDevice(const DeviceSpec& spec, const FpgaProbe& probe) {
  const DeviceChoice cpu{.device = "cpu",
                         .backend = absl::StrCat("cpu/", GemvTargetName()),
                         .fallback_why = ""};
  switch (spec.kind) {
    case DeviceSpec::Kind::kCpu:
      return cpu;
    case DeviceSpec::Kind::kFpga:
    case DeviceSpec::Kind::kAuto: {
      absl::Status opened = probe(spec.index);
      if (opened.ok()) {
        // The FPGA engine is not built yet: a card we can open still runs on the CPU.
        DeviceChoice choice = cpu;
        choice.fallback_why = absl::StrCat("FPGA card ", spec.index,
                                           " opened, but this build has no FPGA engine");
        if (spec.kind == DeviceSpec::Kind::kFpga) {
          return absl::UnimplementedError(absl::StrCat("--device fpga:", spec.index, ": ",
                                                       choice.fallback_why));
        }
        return choice;
      }
      if (spec.kind == DeviceSpec::Kind::kFpga) {
        return absl::Status(opened.code(), absl::StrCat("--device fpga:", spec.index,
                                                        ": cannot open the card: ",
                                                        opened.message()));
      }
      DeviceChoice choice = cpu;
      choice.fallback_why = absl::StrCat("no usable FPGA card 0 (", opened.message(), ")");
      return choice;
    }
  }
  return cpu;
}

}  // namespace accllm
