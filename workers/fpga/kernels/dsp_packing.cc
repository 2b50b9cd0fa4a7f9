#include "workers/fpga/kernels/dsp_packing.h"

#include "workers/fpga/kernels/hls.h"  // ACCLLM_HLS

namespace accllm::fpga {

void ExtractLanes(const DspPacking& k, int64_t p, int32_t* out) {
  for (int32_t i = 0; i < kDspMaxLanes; ++i) {
    ACCLLM_HLS(UNROLL)
    if (i >= k.lanes) break;
    if (i == k.lanes - 1) {
      out[i] = static_cast<int32_t>(p);  // the top lane: whatever is left
      break;
    }
    // Low `shift` bits, sign-extended; subtracting them leaves an exact multiple of 2^shift.
    const int64_t lane = SignExtend(p, k.shift);
    out[i] = static_cast<int32_t>(lane);
    p = (p - lane) >> k.shift;
  }
}

}  // namespace accllm::fpga
