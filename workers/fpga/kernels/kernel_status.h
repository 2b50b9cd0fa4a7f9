// The decoder kernel's return codes (0 = ok). The host validates a step before launching it;
// these codes are the kernel's own guard: it never reads or writes outside the refs it was
// given, and it checks everything before its first write, so a rejected step leaves the KV
// pool and the logits untouched.
#ifndef ACCLLM_WORKERS_FPGA_KERNELS_KERNEL_STATUS_H_
#define ACCLLM_WORKERS_FPGA_KERNELS_KERNEL_STATUS_H_

#include <cstdint>

namespace accllm::fpga {

enum KernelStatus : int32_t {
  kKernelOk = 0,
  kErrBadModelDesc = 1,       // magic/version, dims, KV layout or tensor shapes inconsistent
  kErrBadCommand = 2,         // magic/version, counts or arrays outside the command's ref
  kErrTooManyTokens = 3,      // more than kMaxStepTokens tokens in one step
  kErrBadTokenId = 4,         // token id outside [0, vocab)
  kErrBadSequence = 5,        // a token's sequence index outside the step's sequences
  kErrBadPosition = 6,        // negative position
  kErrPageNotCovered = 7,     // a position written or read has no page in the table
  kErrPageOutOfPool = 8,      // a physical page outside [0, num_pages) or pages unsorted
  kErrRopeRowMissing = 9,     // a position whose RoPE row the command does not carry
  kErrBadLogitsRow = 10,      // logits row outside [0, n_logits) or logits_out too small
  kErrBadAttentionRule = 11,  // window < 1, sinks < 0 or sinks > window
  kErrContextTooLong = 12,    // a query reads more than kMaxAttendPositions positions
};

inline const char* KernelStatusName(int32_t s) {
  switch (s) {
    case kKernelOk:
      return "ok";
    case kErrBadModelDesc:
      return "bad model descriptor";
    case kErrBadCommand:
      return "bad step command";
    case kErrTooManyTokens:
      return "too many tokens in one step";
    case kErrBadTokenId:
      return "token id outside the vocabulary";
    case kErrBadSequence:
      return "token's sequence index out of range";
    case kErrBadPosition:
      return "negative position";
    case kErrPageNotCovered:
      return "position without a page";
    case kErrPageOutOfPool:
      return "page outside the pool or page table unsorted";
    case kErrRopeRowMissing:
      return "missing RoPE row";
    case kErrBadLogitsRow:
      return "bad logits row";
    case kErrBadAttentionRule:
      return "bad attention rule";
    case kErrContextTooLong:
      return "context too long for the attention buffers";
    default:
      return "unknown error";
  }
}

}  // namespace accllm::fpga

#endif  // ACCLLM_WORKERS_FPGA_KERNELS_KERNEL_STATUS_H_
