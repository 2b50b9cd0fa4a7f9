#include "quant/portable_exp.h"  // PortableSwiGlu (header-only, plain C++)
#include "workers/fpga/kernels/elementwise.h"

#include <cmath>  // std::sqrt

#include "workers/fpga/kernels/hls.h"  // ACCLLM_HLS

namespace accllm::fpga {

void RmsNormRow(const float* x, const float* weight, int32_t n, float eps, float* out) {
  float ss = 0.0f;
  for (int32_t i = 0; i < n; ++i) {
    ACCLLM_HLS(PIPELINE II = 1)
    ss += x[i] * x[i];
  }
  const float scale = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
  for (int32_t i = 0; i < n; ++i) {
    ACCLLM_HLS(PIPELINE II = 1)
    out[i] = weight[i] * (scale * x[i]);
  }
}

void RopeApply(float* heads, int32_t n_heads, int32_t head_dim, const float* row) {
  const int32_t half = head_dim / 2;
  const float* cos_row = row;
  const float* sin_row = row + half;
  for (int32_t h = 0; h < n_heads; ++h) {
    float* v = heads + static_cast<int64_t>(h) * head_dim;
    for (int32_t j = 0; j < half; ++j) {
      ACCLLM_HLS(PIPELINE II = 1)
      const float c = cos_row[j], s = sin_row[j];
      const float a = v[j], b = v[j + half];
      v[j] = a * c - b * s;
      v[j + half] = a * s + b * c;
    }
  }
}

void SwiGluRow(float* gate, const float* up, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    ACCLLM_HLS(PIPELINE II = 1)
    gate[i] = PortableSwiGlu(gate[i], up[i]);  // the CPU's SIMD form has the same bits
  }
}

}  // namespace accllm::fpga
