// The FPGA backend: a packed W×A8 model placed once in the card's HBM (each linear's packed
// tensors on a pseudo-channel of its own, round robin), the KV page pool in HBM, and one
// launch of the decoder kernel (workers/fpga/kernels/decoder_step.h) per step: the host writes
// a small command (tokens, positions, page tables, RoPE rows), starts the kernel, and reads
// back only the logits of the tokens that sample. The same backend drives the emulated card
// (EmulatedDevice: banks in host memory, the kernel functions in C simulation, counted bytes
// and launches) and a real card through XRT.
#ifndef ACCLLM_WORKERS_FPGA_BACKEND_FPGA_BACKEND_H_
#define ACCLLM_WORKERS_FPGA_BACKEND_FPGA_BACKEND_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"     // absl::StatusOr
#include "workers/backend/backend.h"  // Backend

namespace accllm {

// The emulated card: a U280-shaped memory (32 HBM pseudo-channels of 256 MiB) in host memory
// running the decoder kernel in C simulation. Named "fpga-emu".
absl::StatusOr<std::shared_ptr<Backend>> MakeEmulatedFpgaBackend();

// Card `index` through XRT with the decoder kernel in `xclbin` (checked for the kernel and
// the HBM banks before the card is touched). Named "fpga:N".
absl::StatusOr<std::shared_ptr<Backend>> MakeXrtFpgaBackend(int index, const std::string& xclbin);

}  // namespace accllm

#endif  // ACCLLM_WORKERS_FPGA_BACKEND_FPGA_BACKEND_H_
