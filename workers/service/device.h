// --device=auto|cpu|fpga:N: which backend a worker runs on. `auto` takes the
// first FPGA card XRT can open and otherwise falls back to the CPU, saying why;
// an explicit fpga:N that cannot be opened is an error (no silent fallback).
#ifndef ACCLLM_WORKERS_SERVICE_DEVICE_H_
#define ACCLLM_WORKERS_SERVICE_DEVICE_H_

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"    // absl::Status
#include "absl/status/statusor.h"  // absl::StatusOr

namespace accllm {

struct DeviceSpec {
  enum class Kind { kAuto, kCpu, kFpga };
  Kind kind = Kind::kAuto;
  int index = 0;  // for kFpga
};
absl::StatusOr<DeviceSpec> ParseDevice(std::string_view flag);

// Opens FPGA card `index`; OK when a card is there and usable. Injected so
// tests can drive both outcomes; the real one goes through XRT.
using FpgaProbe = std::function<absl::Status(int index)>;
absl::Status ProbeXrtDevice(int index);

struct DeviceChoice {
  std::string device;        // "cpu" or "fpga:N" (metrics label, Cluster registration)
  std::string backend;       // "cpu/AVX3", ...
  std::string fallback_why;  // set when auto fell back to the CPU
};

// The CPU backend is the engine with the SIMD kernels: its name carries the
// SIMD target the dispatcher chose.
absl::StatusOr<DeviceChoice> ChooseDevice(const DeviceSpec& spec, const FpgaProbe& probe);

}  // namespace accllm

#endif  // ACCLLM_WORKERS_SERVICE_DEVICE_H_
