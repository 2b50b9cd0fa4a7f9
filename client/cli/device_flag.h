// --device / --xclbin of the in-process commands (run, bench-engine): the backend they load
// the model on, chosen exactly as accllm-worker chooses its own.
#ifndef ACCLLM_CLIENT_CLI_DEVICE_FLAG_H_
#define ACCLLM_CLIENT_CLI_DEVICE_FLAG_H_

#include "absl/status/statusor.h"    // absl::StatusOr
#include "workers/service/device.h"  // DeviceChoice

namespace accllm::cli {

absl::StatusOr<DeviceChoice> ChooseDeviceFromFlags();

}  // namespace accllm::cli

#endif  // ACCLLM_CLIENT_CLI_DEVICE_FLAG_H_
