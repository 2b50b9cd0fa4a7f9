// QuantizeA8Row in quant/a8.cc's arithmetic, operation for operation: max_abs by the same
// comparison as std::max (a NaN never replaces the running maximum), the float reciprocal
// 127 / max_abs, one float multiply, round half to even (std::nearbyint in the default
// rounding mode), then the clamp. Non-finite inputs are outside the contract (as for the
// oracle, whose int8 cast of a NaN is undefined).
#include "workers/fpga/kernels/a8_quantize.h"

#include <cmath>  // std::fabs, std::nearbyint

#include "workers/fpga/kernels/hls.h"  // ACCLLM_HLS

namespace accllm::fpga {

void QuantizeA8Row(const float* x, int32_t n, int8_t* q, float* scale) {
  float max_abs = 0.0f;
  for (int32_t i = 0; i < n; ++i) {
    ACCLLM_HLS(PIPELINE II = 1)
    const float a = std::fabs(x[i]);
    max_abs = max_abs < a ? a : max_abs;
  }
  if (!(max_abs > 0.0f)) {
    for (int32_t i = 0; i < n; ++i) q[i] = 0;
    *scale = 0.0f;
    return;
  }
  *scale = max_abs / 127.0f;
  const float inv = 127.0f / max_abs;
  for (int32_t i = 0; i < n; ++i) {
    ACCLLM_HLS(PIPELINE II = 1)
    const float r = std::nearbyint(x[i] * inv);
    q[i] = static_cast<int8_t>(r < -127.0f ? -127.0f : (127.0f < r ? 127.0f : r));
  }
}

}  // namespace accllm::fpga
