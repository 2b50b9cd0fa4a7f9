#include "workers/service/device.h"

#include "absl/strings/numbers.h"                // absl::SimpleAtoi
#include "absl/strings/str_cat.h"                // absl::StrCat
#include "workers/engine/cpu_backend.h"          // CpuBackend
#include "workers/fpga/backend/fpga_backend.h"   // MakeEmulatedFpgaBackend, MakeXrtFpgaBackend

namespace accllm {

absl::StatusOr<DeviceSpec> ParseDevice(std::string_view flag, std::string_view xclbin) {
  DeviceSpec spec;
  spec.xclbin = std::string(xclbin);
  if (flag == "auto") return spec;
  if (flag == "cpu") {
    spec.kind = DeviceSpec::Kind::kCpu;
    return spec;
  }
  if (flag == "fpga-emu") {
    spec.kind = DeviceSpec::Kind::kFpgaEmu;
    return spec;
  }
  constexpr std::string_view kFpga = "fpga:";
  if (flag.substr(0, kFpga.size()) == kFpga) {
    int index = -1;
    const std::string number(flag.substr(kFpga.size()));
    if (absl::SimpleAtoi(number, &index) && index >= 0) {
      spec.kind = DeviceSpec::Kind::kFpga;
      spec.index = index;
      if (spec.xclbin.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--device fpga:", index,
                         " needs --xclbin FILE (the decoder kernel built by make fpga-xclbin)"));
      }
      return spec;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--device \"", std::string(flag), "\": expected auto, cpu, fpga-emu or fpga:N (N >= 0)"));
}

absl::StatusOr<std::shared_ptr<Backend>> OpenXrtCard(int index, const std::string& xclbin) {
  return MakeXrtFpgaBackend(index, xclbin);
}

absl::StatusOr<DeviceChoice> ChooseDevice(const DeviceSpec& spec, const FpgaOpener& open_card) {
  auto cpu = [](std::string why) {
    auto backend = std::make_shared<CpuBackend>();
    return DeviceChoice{.device = "cpu",
                        .backend = backend->name(),
                        .fallback_why = std::move(why),
                        .instance = backend};
  };
  switch (spec.kind) {
    case DeviceSpec::Kind::kCpu:
      return cpu("");
    case DeviceSpec::Kind::kFpgaEmu: {
      absl::StatusOr<std::shared_ptr<Backend>> emu = MakeEmulatedFpgaBackend();
      if (!emu.ok()) return emu.status();
      return DeviceChoice{
          .device = "fpga-emu", .backend = (*emu)->name(), .fallback_why = "", .instance = *emu};
    }
    case DeviceSpec::Kind::kFpga: {
      absl::StatusOr<std::shared_ptr<Backend>> card = open_card(spec.index, spec.xclbin);
      if (!card.ok()) {
        return absl::Status(card.status().code(),
                            absl::StrCat("--device fpga:", spec.index, ": ",
                                         card.status().message()));
      }
      return DeviceChoice{.device = absl::StrCat("fpga:", spec.index),
                          .backend = (*card)->name(),
                          .fallback_why = "",
                          .instance = *card};
    }
    case DeviceSpec::Kind::kAuto: {
      // A card serves only with a kernel built for it: without an xclbin there is nothing
      // to run on it, whatever XRT finds.
      if (spec.xclbin.empty()) return cpu("no --xclbin given, so no FPGA card is used");
      absl::StatusOr<std::shared_ptr<Backend>> card = open_card(0, spec.xclbin);
      if (!card.ok()) {
        return cpu(absl::StrCat("FPGA card 0 with ", spec.xclbin, ": ", card.status().message()));
      }
      return DeviceChoice{
          .device = "fpga:0", .backend = (*card)->name(), .fallback_why = "", .instance = *card};
    }
  }
  return cpu("");
}

}  // namespace accllm
