#include "workers/fpga/kernels/decoder_checks.h"

#include <cstring>  // std::memcpy

#include "workers/fpga/kernels/decoder_step.h"      // kMaxStepTokens, CheckModelDesc
#include "workers/fpga/kernels/kernel_status.h"     // kErr*
#include "workers/fpga/kernels/lambda_attention.h"  // CheckAttendPages

namespace accllm::fpga {
namespace {

bool LinearOk(const DeviceMemory& mem, const LinearDesc& w, int32_t rows, int32_t cols) {
  if (w.rows != rows || w.cols != cols || w.group <= 0) return false;
  if (w.num_groups != (static_cast<int64_t>(cols) + w.group - 1) / w.group) return false;
  if (w.qweight_row_bytes <= 0) return false;
  const uint64_t r = static_cast<uint64_t>(rows);
  const uint64_t params = r * static_cast<uint64_t>(w.num_groups) * 2;
  if (!RefUsable(mem, w.qweight, r * static_cast<uint64_t>(w.qweight_row_bytes)) ||
      !RefUsable(mem, w.scales, params)) {
    return false;
  }
  if (!w.pow2 && !RefUsable(mem, w.zeros, params)) return false;
  if (w.sparse24 && (w.mask_row_bytes <= 0 ||
                     !RefUsable(mem, w.mask, r * static_cast<uint64_t>(w.mask_row_bytes)))) {
    return false;
  }
  return true;
}

bool TableOk(const DeviceMemory& mem, const Int8TableDesc& t, int32_t rows, int32_t cols) {
  return t.rows == rows && t.cols == cols &&
         RefUsable(mem, t.values, static_cast<uint64_t>(rows) * static_cast<uint64_t>(cols)) &&
         RefUsable(mem, t.scales, static_cast<uint64_t>(rows) * 2);
}

}  // namespace

bool RefUsable(const DeviceMemory& mem, const DeviceRef& ref, uint64_t min_bytes) {
  return ref.bank >= 0 && ref.bank < kMaxBanks && mem.base[ref.bank] != nullptr &&
         ref.bytes >= min_bytes;
}

int32_t CheckModelDesc(const DeviceMemory& mem, DeviceRef desc) {
  if (!RefUsable(mem, desc, sizeof(ModelDesc))) return kErrBadModelDesc;
  const ModelDesc m = ReadModelDesc(mem, desc);
  if (m.magic != kModelDescMagic || m.version != kModelDescVersion) return kErrBadModelDesc;
  if (m.dim <= 0 || m.hidden <= 0 || m.n_layers <= 0 || m.n_heads <= 0 || m.n_kv_heads <= 0 ||
      m.vocab <= 0 || m.head_dim <= 0 || m.head_dim % 2 != 0 || m.head_dim > kMaxHeadDim ||
      static_cast<int64_t>(m.n_heads) * m.head_dim != m.dim || m.n_heads % m.n_kv_heads != 0) {
    return kErrBadModelDesc;
  }
  if (desc.bytes < ModelDescBytes(m.n_layers)) return kErrBadModelDesc;
  if ((m.kv_bits != 4 && m.kv_bits != 8) || m.page_size <= 0 || m.sink_tokens < 0 ||
      m.num_pages < 0 || (m.rotate_keys != 0 && m.rotate_keys != 1)) {
    return kErrBadModelDesc;
  }
  if (!(m.kv == ComputeKvPageLayout(m.n_layers, m.n_kv_heads, m.head_dim, m.kv_bits, m.page_size,
                                    m.sink_tokens))) {
    return kErrBadModelDesc;
  }
  const uint64_t pool_bytes =
      static_cast<uint64_t>(m.num_pages) * static_cast<uint64_t>(m.kv.page_bytes);
  if (m.num_pages > 0 && !RefUsable(mem, m.kv_pool, pool_bytes)) return kErrBadModelDesc;
  if (!TableOk(mem, m.embedding, m.vocab, m.dim) || !TableOk(mem, m.head, m.vocab, m.dim) ||
      !RefUsable(mem, m.final_norm, static_cast<uint64_t>(m.dim) * 4)) {
    return kErrBadModelDesc;
  }
  const int32_t kv_dim = m.n_kv_heads * m.head_dim;
  for (int32_t l = 0; l < m.n_layers; ++l) {
    const LayerDesc d = ReadLayerDesc(mem, desc, l);
    const uint64_t norm = static_cast<uint64_t>(m.dim) * 4;
    if (!RefUsable(mem, d.attn_norm, norm) || !RefUsable(mem, d.ffn_norm, norm) ||
        !LinearOk(mem, d.q, m.dim, m.dim) || !LinearOk(mem, d.k, kv_dim, m.dim) ||
        !LinearOk(mem, d.v, kv_dim, m.dim) || !LinearOk(mem, d.o, m.dim, m.dim) ||
        !LinearOk(mem, d.gate, m.hidden, m.dim) || !LinearOk(mem, d.up, m.hidden, m.dim) ||
        !LinearOk(mem, d.down, m.dim, m.hidden)) {
      return kErrBadModelDesc;
    }
  }
  return kKernelOk;
}

int32_t ReadAndCheckStep(const DeviceMemory& mem, const ModelDesc& m, DeviceRef command,
                         DeviceRef logits_out, CheckedStep* step) {
  if (!RefUsable(mem, command, sizeof(StepHeader))) return kErrBadCommand;
  StepHeader& h = step->header;
  h = ReadStepHeader(mem, command);
  if (int32_t s = CheckStepHeader(h, command.bytes); s != kKernelOk) return s;
  if (h.head_dim != m.head_dim) return kErrBadCommand;
  if (h.n_tokens > kMaxStepTokens) return kErrTooManyTokens;
  const int32_t hd = h.head_dim;

  step->sequences.resize(static_cast<size_t>(h.n_sequences));
  for (int32_t i = 0; i < h.n_sequences; ++i)
    step->sequences[i] = ReadStepSequence(mem, command, h, i);
  step->pages.resize(static_cast<size_t>(h.n_page_entries));
  ReadStepPages(mem, command, h, 0, h.n_page_entries, step->pages.data());
  step->rope.resize(static_cast<size_t>(h.n_rope_rows) * hd);
  if (h.n_rope_rows > 0) {
    const uint64_t bytes = static_cast<uint64_t>(h.n_rope_rows) * hd * sizeof(float);
    std::memcpy(step->rope.data(), mem.ReadPart<uint8_t>(command, h.rope_offset, bytes), bytes);
  }
  for (const StepSequence& s : step->sequences) {
    if (!s.rule.Valid()) return kErrBadAttentionRule;
    if (s.page_first < 0 || s.page_count < 0 ||
        static_cast<int64_t>(s.page_first) + s.page_count > h.n_page_entries) {
      return kErrBadCommand;
    }
    for (const RopeRun* run : {&s.rope, &s.sink_rope}) {
      if (run->rows < 0 || run->first_row < 0 ||
          static_cast<int64_t>(run->first_row) + run->rows > h.n_rope_rows) {
        return kErrBadCommand;
      }
    }
    for (int32_t j = 0; j < s.page_count; ++j) {
      const PageEntry& p = step->pages[s.page_first + j];
      if (p.physical < 0 || p.physical >= m.num_pages || p.logical < 0) return kErrPageOutOfPool;
      if (j > 0 && p.logical <= step->pages[s.page_first + j - 1].logical) {
        return kErrPageOutOfPool;  // unsorted: the binary search would miss pages
      }
    }
  }

  KvPoolView pool;
  pool.page_size = m.page_size;
  pool.num_pages = m.num_pages;
  pool.sink_tokens = m.sink_tokens;
  step->tokens.resize(static_cast<size_t>(h.n_tokens));
  for (int32_t i = 0; i < h.n_tokens; ++i) {
    const StepToken t = step->tokens[i] = ReadStepToken(mem, command, h, i);
    if (t.token < 0 || t.token >= m.vocab) return kErrBadTokenId;
    if (t.sequence < 0 || t.sequence >= h.n_sequences) return kErrBadSequence;
    if (t.position < 0) return kErrBadPosition;
    if (t.logits_row < -1 || t.logits_row >= h.n_logits) return kErrBadLogitsRow;
    if (t.logits_row >= 0) {
      const uint64_t end = (static_cast<uint64_t>(t.logits_row) + 1) *
                           static_cast<uint64_t>(m.vocab) * sizeof(float);
      if (!RefUsable(mem, logits_out, end)) return kErrBadLogitsRow;
    }
    const StepSequence& s = step->sequences[t.sequence];
    const SequenceView view{step->pages.data() + s.page_first, s.page_count, s.rule};
    if (int32_t e = CheckAttendPages(pool, view, t.position); e != kKernelOk) return e;
    if (RopeRowOf(s, t.position) < 0) return kErrRopeRowMissing;
    for (int64_t j = 0; j < s.rule.SinkCount(t.position); ++j) {
      if (RopeRowOf(s, s.rule.SinkRopePosition(t.position, static_cast<int32_t>(j))) < 0) {
        return kErrRopeRowMissing;
      }
    }
  }
  return kKernelOk;
}

}  // namespace accllm::fpga
