#include "client/cli/device_flag.h"

#include "absl/flags/flag.h"    // absl::GetFlag
#include "client/cli/flags.h"   // FLAGS_device, FLAGS_xclbin
#include "spdlog/spdlog.h"      // spdlog::warn

namespace accllm::cli {

absl::StatusOr<DeviceChoice> ChooseDeviceFromFlags() {
  absl::StatusOr<DeviceSpec> spec =
      ParseDevice(absl::GetFlag(FLAGS_device), absl::GetFlag(FLAGS_xclbin));
  if (!spec.ok()) return spec.status();
  absl::StatusOr<DeviceChoice> choice = ChooseDevice(*spec);
  if (choice.ok() && !choice->fallback_why.empty()) {
    spdlog::warn("--device {}: running on the CPU: {}", absl::GetFlag(FLAGS_device),
                 choice->fallback_why);
  }
  return choice;
}

}  // namespace accllm::cli
