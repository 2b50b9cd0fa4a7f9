// The per-launch command of accllm_decoder: one byte buffer in one DeviceRef, written by the
// host for every step (a batch of sequence chunks). Layout (byte offsets from the command's
// start, every array 64-byte aligned relative to it; ComputeStepLayout fills the offsets):
//   StepHeader                                  at 0
//   StepToken    tokens[n_tokens]               at tokens_offset
//   StepSequence sequences[n_sequences]         at sequences_offset
//   PageEntry    pages[n_page_entries]          at pages_offset   (kv_pool.h)
//   float        rope[n_rope_rows][head_dim]    at rope_offset    (cos[hd/2], then sin[hd/2])
// total_bytes = the command's size (the DeviceRef's bytes must be at least that).
//
// Tokens: a sequence's tokens appear in increasing position order (as the CPU engine's
// ForwardBatch requires); logits_row >= 0 asks for the token's logits in row logits_row of
// logits_out (float32 [n_logits, vocab]), -1 for none.
// Sequences: the attention rule, the page table (entries [page_first, page_first +
// page_count) of `pages`, sorted by logical page, covering every position the step's tokens
// write or read), and two runs of RoPE rows of consecutive positions: row
// rope_first_row + (p − rope_first_pos) is position p's for p in [rope_first_pos,
// rope_first_pos + rope_rows); the same for the sink run. The kernel needs the row of every
// token position (q and window keys) and, for Λ, of SinkRopePosition(t, j) for j <
// SinkCount(t) (the sinks' in-cache positions); SequenceRopeRuns gives runs that cover them
// and model/rope.h's Rope::Row each row's values.
#ifndef ACCLLM_WORKERS_FPGA_KERNELS_STEP_COMMAND_H_
#define ACCLLM_WORKERS_FPGA_KERNELS_STEP_COMMAND_H_

#include <cstdint>
#include <type_traits>

#include "workers/fpga/kernels/device_memory.h"     // DeviceMemory, DeviceRef
#include "workers/fpga/kernels/kv_pool.h"           // PageEntry
#include "workers/fpga/kernels/lambda_attention.h"  // AttentionRule

namespace accllm::fpga {

inline constexpr uint32_t kStepMagic = 0x50545341;  // "ASTP"
inline constexpr uint32_t kStepVersion = 1;

struct StepHeader {
  uint32_t magic = kStepMagic;
  uint32_t version = kStepVersion;
  int32_t n_tokens = 0, n_sequences = 0, n_page_entries = 0, n_rope_rows = 0;
  int32_t n_logits = 0;  // rows of logits_out the step may write
  int32_t head_dim = 0;  // floats per RoPE row (= the model's head_dim)
  uint64_t tokens_offset = 0, sequences_offset = 0, pages_offset = 0, rope_offset = 0;
  uint64_t total_bytes = 0;
};

struct StepToken {
  int32_t token = 0;     // id in [0, vocab)
  int32_t sequence = 0;  // index into sequences
  int64_t position = 0;
  int32_t logits_row = -1;
  int32_t reserved = 0;
};

struct RopeRun {
  int64_t first_pos = 0;
  int32_t first_row = 0;
  int32_t rows = 0;
};

struct StepSequence {
  AttentionRule rule;  // dense, sinks S, window W
  int32_t page_first = 0, page_count = 0;
  int32_t reserved = 0;
  RopeRun rope;       // token positions
  RopeRun sink_rope;  // Λ sinks' in-cache positions (rows = 0 when dense)
};

static_assert(std::is_trivially_copyable_v<StepHeader>);
static_assert(std::is_trivially_copyable_v<StepToken>);
static_assert(std::is_trivially_copyable_v<StepSequence>);

// A header with the array offsets and total_bytes filled in for these counts.
StepHeader ComputeStepLayout(int32_t n_tokens, int32_t n_sequences, int32_t n_page_entries,
                             int32_t n_rope_rows, int32_t head_dim, int32_t n_logits);

// Host: the RoPE runs a sequence needs for its tokens at positions [first_pos, last_pos]:
// the positions themselves, and for Λ the sinks' positions [WindowStart(first_pos) − S,
// WindowStart(last_pos) − 1] (rows = 0 when dense or S = 0). first_row is left 0 for the
// caller to assign.
void SequenceRopeRuns(const AttentionRule& rule, int64_t first_pos, int64_t last_pos,
                      RopeRun* tokens, RopeRun* sinks);

// Host: writes into a command buffer of header.total_bytes bytes (any alignment).
class StepCommandWriter {
 public:
  StepCommandWriter(const StepHeader& header, uint8_t* buffer);
  void SetToken(int32_t i, const StepToken& t);
  void SetSequence(int32_t i, const StepSequence& s);
  void SetPage(int32_t i, const PageEntry& p);
  void SetRopeRow(int32_t r, const float* row);  // [head_dim]

 private:
  StepHeader h_;
  uint8_t* buf_;
};

// Kernel: copies out of the command's ref (counted reads; callers check indices first).
StepHeader ReadStepHeader(const DeviceMemory& mem, const DeviceRef& cmd);
StepToken ReadStepToken(const DeviceMemory& mem, const DeviceRef& cmd, const StepHeader& h,
                        int32_t i);
StepSequence ReadStepSequence(const DeviceMemory& mem, const DeviceRef& cmd, const StepHeader& h,
                              int32_t i);
// pages [count] from entry `first` into out.
void ReadStepPages(const DeviceMemory& mem, const DeviceRef& cmd, const StepHeader& h,
                   int32_t first, int32_t count, PageEntry* out);
// row r into out [head_dim].
void ReadRopeRow(const DeviceMemory& mem, const DeviceRef& cmd, const StepHeader& h, int32_t r,
                 float* out);

// The row index of position p in the sequence's runs, -1 when absent.
int32_t RopeRowOf(const StepSequence& s, int64_t p);

// 0 when the header is consistent and its arrays lie inside `cmd_bytes`, else
// kErrBadCommand (the per-entry checks are the kernel's).
int32_t CheckStepHeader(const StepHeader& h, uint64_t cmd_bytes);

}  // namespace accllm::fpga

#endif  // ACCLLM_WORKERS_FPGA_KERNELS_STEP_COMMAND_H_
