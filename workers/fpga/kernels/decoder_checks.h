// The decoder kernel's guards (decoder_step.h): the model descriptor and the step command are
// checked completely before the first write, so the kernel never reads or writes outside the
// refs it was given and a rejected step changes nothing.
#ifndef ACCLLM_WORKERS_FPGA_KERNELS_DECODER_CHECKS_H_
#define ACCLLM_WORKERS_FPGA_KERNELS_DECODER_CHECKS_H_

#include <cstdint>
#include <vector>

#include "workers/fpga/kernels/decoder_desc.h"   // ModelDesc
#include "workers/fpga/kernels/device_memory.h"  // DeviceMemory, DeviceRef
#include "workers/fpga/kernels/step_command.h"   // StepHeader, StepToken, StepSequence

namespace accllm::fpga {

// A ref the kernel may read or write: a bank that has a base pointer and >= min_bytes.
bool RefUsable(const DeviceMemory& mem, const DeviceRef& ref, uint64_t min_bytes);

// The step as the kernel runs it, read and checked.
struct CheckedStep {
  StepHeader header;
  std::vector<StepToken> tokens;
  std::vector<StepSequence> sequences;
  std::vector<PageEntry> pages;
  std::vector<float> rope;  // [n_rope_rows, head_dim]
};

// Reads the command and checks it against the (already checked) model: 0 or a KernelStatus.
int32_t ReadAndCheckStep(const DeviceMemory& mem, const ModelDesc& m, DeviceRef command,
                         DeviceRef logits_out, CheckedStep* step);

}  // namespace accllm::fpga

#endif  // ACCLLM_WORKERS_FPGA_KERNELS_DECODER_CHECKS_H_
