// The only file that includes XRT: opening a card is the whole FPGA path this
// build has. XRT reports "no card" (and "XILINX_XRT not set") by throwing.
#include <exception>

#include "absl/strings/str_cat.h"  // absl::StrCat
#include "workers/service/device.h"

#ifdef ACCLLM_HAVE_XRT
#include "xrt/xrt_device.h"  // xrt::device
#endif

namespace accllm {

absl::Status ProbeXrtDevice(int index) {
#ifdef ACCLLM_HAVE_XRT
  try {
    xrt::device device(static_cast<unsigned int>(index));
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("XRT: ", e.what()));
  } catch (...) {
    return absl::UnavailableError("XRT: unknown error opening the device");
  }
#else
  return absl::UnavailableError(
      absl::StrCat("this build has no XRT support (card ", index, " not probed)"));
#endif
}

}  // namespace accllm
