// --device=auto|cpu|fpga-emu|fpga:N (with --xclbin FILE): which backend a worker (or an
// in-process command) runs on. `auto` takes card 0 only when an xclbin with the decoder
// kernel is given and the card opens with it, and otherwise falls back to the CPU, saying
// why; an explicit fpga:N that cannot be opened is an error (no silent fallback). `fpga-emu`
// is the emulated card (banks in host memory, the kernels in C simulation).
#ifndef ACCLLM_WORKERS_SERVICE_DEVICE_H_
#define ACCLLM_WORKERS_SERVICE_DEVICE_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"       // absl::Status
#include "absl/status/statusor.h"     // absl::StatusOr
#include "workers/backend/backend.h"  // Backend

namespace accllm {

struct DeviceSpec {
  enum class Kind { kAuto, kCpu, kFpgaEmu, kFpga };
  Kind kind = Kind::kAuto;
  int index = 0;       // for kFpga
  std::string xclbin;  // for kFpga and kAuto
};
absl::StatusOr<DeviceSpec> ParseDevice(std::string_view flag, std::string_view xclbin = "");

// Opens the backend of FPGA card `index` with `xclbin`. Injected so tests can drive both
// outcomes; the real one goes through XRT (MakeXrtFpgaBackend).
using FpgaOpener =
    std::function<absl::StatusOr<std::shared_ptr<Backend>>(int index, const std::string& xclbin)>;
absl::StatusOr<std::shared_ptr<Backend>> OpenXrtCard(int index, const std::string& xclbin);

struct DeviceChoice {
  std::string device;        // "cpu", "fpga-emu" or "fpga:N" (metrics label, registration)
  std::string backend;       // "cpu/AVX2", "fpga-emu", "fpga:0"
  std::string fallback_why;  // set when auto fell back to the CPU
  std::shared_ptr<Backend> instance;
};

absl::StatusOr<DeviceChoice> ChooseDevice(const DeviceSpec& spec,
                                          const FpgaOpener& open_card = &OpenXrtCard);

}  // namespace accllm

#endif  // ACCLLM_WORKERS_SERVICE_DEVICE_H_
