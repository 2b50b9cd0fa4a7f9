// fp16 (raw IEEE half bits, as the model directory stores scales and zeros) on the card: the
// conversions are model/half_bits.h's (no vendor half type), the same as model/dtype.h's.
#ifndef ACCLLM_WORKERS_FPGA_KERNELS_FP16_H_
#define ACCLLM_WORKERS_FPGA_KERNELS_FP16_H_

#include <cstdint>
#include <cstring>

#include "model/half_bits.h"  // HalfBitsToFloat, FloatToHalfBits (header-only, plain C++)

namespace accllm::fpga {

using ::accllm::FloatToHalfBits;
using ::accllm::HalfBitsToFloat;

// Little-endian fp16 i of a byte array: no alignment needed (tensors sit at any offset).
inline float HalfAt(const uint8_t* bytes, int64_t i) {
  return HalfBitsToFloat(
      static_cast<uint16_t>(bytes[2 * i] | (static_cast<uint16_t>(bytes[2 * i + 1]) << 8)));
}

}  // namespace accllm::fpga

#endif  // ACCLLM_WORKERS_FPGA_KERNELS_FP16_H_
