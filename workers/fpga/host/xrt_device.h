// A real card through XRT's native C++ API (xrt::device, xrt::xclbin, xrt::bo, xrt::kernel,
// xrt::run). Every XRT exception is caught at this boundary and becomes an absl::Status that
// carries XRT's message. Without XRT in the build, Open and ProbeCard return Unimplemented.
//
// Memory: one xrt::bo "arena" per bank, in the xclbin's memory group tagged HBM[bank], created
// on the bank's first use and sub-allocated with the same BankAllocator as the emulated card,
// so a DeviceRef's offset is from the bank's base on both devices (what the kernels expect).
// Each arena has a host-side mirror of its size (xrt::bo's normal flags): Write/Read touch the
// mirror, Sync moves it over PCIe.
#ifndef ACCLLM_WORKERS_FPGA_HOST_XRT_DEVICE_H_
#define ACCLLM_WORKERS_FPGA_HOST_XRT_DEVICE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "workers/fpga/host/device.h"

namespace accllm::fpga {

// What the model needs from an xclbin before a card is worth opening.
struct XclbinRequirements {
  std::vector<std::string> kernels = {"accllm_decoder"};
  int hbm_banks = kMaxBanks;  // HBM[0..hbm_banks) must be in the memory topology and used
  uint64_t bank_bytes = 0;    // each such bank must hold this much; 0: whatever it has
};

// What xrt::xclbin reports about a file.
struct XclbinSummary {
  std::string path;
  std::string platform;                  // the xsa/vbnv name
  std::vector<std::string> kernels;
  std::vector<int> hbm_banks;            // n of each used "HBM[n]", sorted
  std::vector<int> hbm_mem_index;        // memory group of HBM[n], -1 when absent (size 32)
  uint64_t min_hbm_bank_bytes = 0;
};

// True when this build links XRT.
bool XrtCompiledIn();

// Reads `path` with xrt::xclbin (no card needed). NotFound for a missing file,
// InvalidArgument for a file that is not an xclbin, Unimplemented without XRT.
absl::StatusOr<XclbinSummary> InspectXclbin(const std::string& path);

// FailedPrecondition naming the file and what is missing (kernels, with what it has; HBM banks).
absl::Status CheckXclbin(const XclbinSummary& summary, const XclbinRequirements& req);

// XRT's run-time environment: XILINX_XRT must point at a folder whose lib/ holds
// libxrt_core.so.2, and XCL_EMULATION_MODE=noop (a "device" that computes nothing) is refused.
absl::Status CheckXrtEnvironment();

// For `--device=auto`: OK only when card `index` opens with `xclbin` and its kernels.
absl::Status ProbeCard(int index, const std::string& xclbin, const XclbinRequirements& req);

class XrtDevice final : public Device {
 public:
  // Checks the xclbin first (so a bad file is reported without a card), then the environment,
  // then opens the card (Unavailable with XRT's message when there is none), loads the
  // xclbin and opens every required kernel.
  static absl::StatusOr<std::unique_ptr<XrtDevice>> Open(int index, const std::string& xclbin_path,
                                                         const XclbinRequirements& req);
  ~XrtDevice() override;

  absl::StatusOr<DeviceRef> Allocate(int bank, uint64_t bytes) override;
  absl::Status Free(const DeviceRef& ref) override;
  absl::Status Write(const DeviceRef& ref, uint64_t offset, const void* src,
                     uint64_t n) override;
  absl::Status Read(const DeviceRef& ref, uint64_t offset, void* dst, uint64_t n) override;
  absl::Status Sync(const DeviceRef& ref, Direction direction) override;
  absl::Status Copy(const DeviceRef& dst, uint64_t dst_offset, const DeviceRef& src,
                    uint64_t src_offset, uint64_t n) override;
  // Buffers become xrt::bo arguments (the bank's arena for a WholeBank ref, else a sub-buffer
  // at the ref's offset); scalars are set as uint64_t, so the kernel top declares them 64-bit.
  // On timeout the run is aborted and DeadlineExceeded returned.
  absl::Status Run(const std::string& kernel, const KernelArgs& args,
                   absl::Duration timeout) override;

  DeviceInfo info() const override;
  DeviceCounters counters() const override;
  void ResetCounters() override;
  int num_banks() const override;

  struct Impl;  // XRT objects; defined only where XRT is compiled in

 private:
  explicit XrtDevice(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace accllm::fpga

#endif  // ACCLLM_WORKERS_FPGA_HOST_XRT_DEVICE_H_
