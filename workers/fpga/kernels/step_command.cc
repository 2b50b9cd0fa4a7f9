#include "workers/fpga/kernels/step_command.h"

#include <cstring>  // std::memcpy

#include "workers/fpga/kernels/kernel_status.h"  // kErrBadCommand

namespace accllm::fpga {
namespace {

uint64_t RoundUp64(uint64_t v) { return (v + 63) / 64 * 64; }

}  // namespace

StepHeader ComputeStepLayout(int32_t n_tokens, int32_t n_sequences, int32_t n_page_entries,
                             int32_t n_rope_rows, int32_t head_dim, int32_t n_logits) {
  StepHeader h;
  h.n_tokens = n_tokens;
  h.n_sequences = n_sequences;
  h.n_page_entries = n_page_entries;
  h.n_rope_rows = n_rope_rows;
  h.head_dim = head_dim;
  h.n_logits = n_logits;
  h.tokens_offset = RoundUp64(sizeof(StepHeader));
  h.sequences_offset = RoundUp64(h.tokens_offset + uint64_t(n_tokens) * sizeof(StepToken));
  h.pages_offset = RoundUp64(h.sequences_offset + uint64_t(n_sequences) * sizeof(StepSequence));
  h.rope_offset = RoundUp64(h.pages_offset + uint64_t(n_page_entries) * sizeof(PageEntry));
  h.total_bytes = h.rope_offset + uint64_t(n_rope_rows) * uint64_t(head_dim) * sizeof(float);
  return h;
}

void SequenceRopeRuns(const AttentionRule& rule, int64_t first_pos, int64_t last_pos,
                      RopeRun* tokens, RopeRun* sinks) {
  *tokens = RopeRun{first_pos, 0, static_cast<int32_t>(last_pos - first_pos + 1)};
  *sinks = RopeRun{};
  if (rule.dense || rule.sinks == 0) return;
  const int64_t lo = rule.SinkRopePosition(first_pos, 0);
  const int64_t hi = rule.SinkRopePosition(last_pos, rule.sinks - 1);
  *sinks = RopeRun{lo, 0, static_cast<int32_t>(hi - lo + 1)};
}

StepCommandWriter::StepCommandWriter(const StepHeader& header, uint8_t* buffer)
    : h_(header), buf_(buffer) {
  std::memcpy(buf_, &h_, sizeof(h_));
}

void StepCommandWriter::SetToken(int32_t i, const StepToken& t) {
  std::memcpy(buf_ + h_.tokens_offset + uint64_t(i) * sizeof(t), &t, sizeof(t));
}
void StepCommandWriter::SetSequence(int32_t i, const StepSequence& s) {
  std::memcpy(buf_ + h_.sequences_offset + uint64_t(i) * sizeof(s), &s, sizeof(s));
}
void StepCommandWriter::SetPage(int32_t i, const PageEntry& p) {
  std::memcpy(buf_ + h_.pages_offset + uint64_t(i) * sizeof(p), &p, sizeof(p));
}
void StepCommandWriter::SetRopeRow(int32_t r, const float* row) {
  const uint64_t bytes = uint64_t(h_.head_dim) * sizeof(float);
  std::memcpy(buf_ + h_.rope_offset + uint64_t(r) * bytes, row, bytes);
}

StepHeader ReadStepHeader(const DeviceMemory& mem, const DeviceRef& cmd) {
  StepHeader h;
  std::memcpy(&h, mem.ReadPart<uint8_t>(cmd, 0, sizeof(h)), sizeof(h));
  return h;
}

StepToken ReadStepToken(const DeviceMemory& mem, const DeviceRef& cmd, const StepHeader& h,
                        int32_t i) {
  StepToken t;
  std::memcpy(&t, mem.ReadPart<uint8_t>(cmd, h.tokens_offset + uint64_t(i) * sizeof(t), sizeof(t)),
              sizeof(t));
  return t;
}

StepSequence ReadStepSequence(const DeviceMemory& mem, const DeviceRef& cmd, const StepHeader& h,
                              int32_t i) {
  StepSequence s;
  std::memcpy(&s,
              mem.ReadPart<uint8_t>(cmd, h.sequences_offset + uint64_t(i) * sizeof(s), sizeof(s)),
              sizeof(s));
  return s;
}

void ReadStepPages(const DeviceMemory& mem, const DeviceRef& cmd, const StepHeader& h,
                   int32_t first, int32_t count, PageEntry* out) {
  if (count <= 0) return;
  const uint64_t bytes = uint64_t(count) * sizeof(PageEntry);
  std::memcpy(
      out, mem.ReadPart<uint8_t>(cmd, h.pages_offset + uint64_t(first) * sizeof(PageEntry), bytes),
      bytes);
}

void ReadRopeRow(const DeviceMemory& mem, const DeviceRef& cmd, const StepHeader& h, int32_t r,
                 float* out) {
  const uint64_t bytes = uint64_t(h.head_dim) * sizeof(float);
  std::memcpy(out, mem.ReadPart<uint8_t>(cmd, h.rope_offset + uint64_t(r) * bytes, bytes), bytes);
}

int32_t RopeRowOf(const StepSequence& s, int64_t p) {
  for (const RopeRun* run : {&s.rope, &s.sink_rope}) {
    if (run->rows > 0 && p >= run->first_pos && p - run->first_pos < run->rows) {
      return run->first_row + static_cast<int32_t>(p - run->first_pos);
    }
  }
  return -1;
}

int32_t CheckStepHeader(const StepHeader& h, uint64_t cmd_bytes) {
  if (h.magic != kStepMagic || h.version != kStepVersion) return kErrBadCommand;
  if (h.n_tokens < 0 || h.n_sequences < 0 || h.n_page_entries < 0 || h.n_rope_rows < 0 ||
      h.n_logits < 0 || h.head_dim <= 0) {
    return kErrBadCommand;
  }
  if (cmd_bytes < sizeof(StepHeader) || h.total_bytes > cmd_bytes) return kErrBadCommand;
  const auto inside = [&](uint64_t offset, uint64_t count, uint64_t size) {
    return offset <= h.total_bytes && count * size <= h.total_bytes - offset;
  };
  if (!inside(h.tokens_offset, uint64_t(h.n_tokens), sizeof(StepToken)) ||
      !inside(h.sequences_offset, uint64_t(h.n_sequences), sizeof(StepSequence)) ||
      !inside(h.pages_offset, uint64_t(h.n_page_entries), sizeof(PageEntry)) ||
      !inside(h.rope_offset, uint64_t(h.n_rope_rows), uint64_t(h.head_dim) * sizeof(float))) {
    return kErrBadCommand;
  }
  return kKernelOk;
}

}  // namespace accllm::fpga
