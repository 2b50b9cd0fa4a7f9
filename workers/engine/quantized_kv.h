// KV4 / KV8 cache pages: real low-bit K/V, read by the attention without ever
// materializing a float cache. Per token, per KV head, per layer: codes
// ([head_dim] at `bits` each, bit_pack.h order) + fp16 scale/zero (kv_quant.h).
// Positions < KvFormat::sink_tokens keep fp16 K/V instead (IntactKV: the sinks
// carry the outliers low-bit KV destroys).
//
// Keys follow PagedSequenceKv's Λ rule: window keys are stored after RoPE, Λ sink
// keys before RoPE and rotated on the fly to AttentionWindow::SinkRopePosition.
// A quantized key is first Hadamard-rotated per head when rotate_keys (the query
// gets the same rotation, so q·k is unchanged and read straight off the codes by
// DotQuantizedKey); a Λ sink key that is quantized (sink_tokens < S) is
// dequantized and un-rotated before its on-the-fly RoPE.
#ifndef ACCLLM_WORKERS_ENGINE_QUANTIZED_KV_H_
#define ACCLLM_WORKERS_ENGINE_QUANTIZED_KV_H_

#include <cstdint>
#include <span>
#include <vector>

#include "model/attention_window.h"      // AttentionWindow
#include "model/config.h"                // ModelConfig
#include "quant/kv_quant.h"              // KvFormat, KvQuantParams
#include "workers/cpu/kv4_attention.h"   // Kv4Ref
#include "workers/engine/paged_kv.h"     // PageRef
#include "model/rope.h"         // Rope
#include "workers/engine/sequence_kv.h"  // SequenceKv

namespace accllm {

// A pool of pages of P positions × all layers, K and V, in `format` (bits 4 or 8).
class QuantizedKvStore {
 public:
  QuantizedKvStore(const ModelConfig& config, const KvFormat& format, int32_t num_pages,
                   int32_t page_size);

  const KvFormat& format() const { return format_; }
  int32_t num_pages() const { return num_pages_; }
  int32_t page_size() const { return page_size_; }
  int64_t code_bytes() const { return code_bytes_; }  // of one [head_dim] vector
  // Bytes of the pool: codes + scales/zeros + the fp16 sink slots.
  int64_t bytes() const;

  // One slot (page, layer, position in page). Codes: [kv_heads, code_bytes];
  // params: [kv_heads]; fp16: [kv_dim] raw half bits (used by sink positions only).
  size_t Slot(int32_t page, int32_t layer, int32_t slot) const;
  uint8_t* KeyCodes(size_t s) { return k_codes_.data() + s * kv_heads_ * code_bytes_; }
  uint8_t* ValueCodes(size_t s) { return v_codes_.data() + s * kv_heads_ * code_bytes_; }
  const uint8_t* KeyCodes(size_t s) const { return k_codes_.data() + s * kv_heads_ * code_bytes_; }
  const uint8_t* ValueCodes(size_t s) const {
    return v_codes_.data() + s * kv_heads_ * code_bytes_;
  }
  KvQuantParams* KeyParams(size_t s) { return k_params_.data() + s * kv_heads_; }
  KvQuantParams* ValueParams(size_t s) { return v_params_.data() + s * kv_heads_; }
  const KvQuantParams* KeyParams(size_t s) const { return k_params_.data() + s * kv_heads_; }
  const KvQuantParams* ValueParams(size_t s) const { return v_params_.data() + s * kv_heads_; }
  uint16_t* KeyHalf(size_t s) { return k_half_.data() + s * kv_dim_; }
  uint16_t* ValueHalf(size_t s) { return v_half_.data() + s * kv_dim_; }
  const uint16_t* KeyHalf(size_t s) const { return k_half_.data() + s * kv_dim_; }
  const uint16_t* ValueHalf(size_t s) const { return v_half_.data() + s * kv_dim_; }
  // Copies a whole page (copy-on-write of shared prefix pages).
  void CopyPage(int32_t from, int32_t to);

 private:
  KvFormat format_;
  int32_t kv_heads_, kv_dim_, n_layers_, num_pages_, page_size_;
  int64_t code_bytes_;
  std::vector<uint8_t> k_codes_, v_codes_;          // [pages, layers, P, kv_heads, code_bytes]
  std::vector<KvQuantParams> k_params_, v_params_;  // [pages, layers, P, kv_heads]
  std::vector<uint16_t> k_half_, v_half_;           // [pages, layers, P, kv_dim] fp16
};

// One sequence's quantized K/V over a page table (same contract as PagedSequenceKv).
class QuantizedSequenceKv : public SequenceKv {
 public:
  QuantizedSequenceKv(const ModelConfig& config, QuantizedKvStore& store,
                      std::vector<PageRef> pages, AttentionWindow window);

  absl::Status CheckWritable(int64_t pos) const override;
  void Store(int32_t layer, int64_t pos, std::span<const float> k,
             std::span<const float> v) override;
  void Attend(int32_t layer, int64_t pos, std::span<const float> q,
              std::span<float> out) const override;
  bool ConcurrentAttend() const override { return true; }
  // One part per KV head (its GQA group of query heads).
  int32_t AttendParts() const override { return config_.n_kv_heads; }
  void AttendPart(int32_t layer, int64_t pos, std::span<const float> q, std::span<float> out,
                  int32_t part) const override;
  void AttendBlockPart(int32_t layer, int64_t pos0, int32_t count, const float* q, float* out,
                       int64_t stride, int32_t part) const override;

 private:
  // KV4: the query heads of KV head g for `count` consecutive positions at once. The
  // quantized keys and values of all their windows are unpacked once for every query (a
  // prefill chunk's queries share nearly all of them); a query's weights are 0 outside its
  // own window, which leaves its sums bit for bit what they are alone (kv4_attention.h).
  void AttendKv4Block(int32_t layer, int64_t pos0, int32_t count, const float* q, float* out,
                      int64_t stride, int32_t g) const;
  // The first window position of a query at `pos` whose K/V are quantized (pos + 1: none).
  int64_t QuantizedWindowStart(int64_t pos) const;
  // Attention of the query heads of KV heads [g_begin, g_end): writes only their outputs.
  void AttendKvHeads(int32_t layer, int64_t pos, std::span<const float> q, std::span<float> out,
                     int32_t g_begin, int32_t g_end) const;
  int32_t PhysicalPage(int64_t pos) const { return table_.PhysicalPage(pos); }
  size_t SlotOf(int32_t layer, int64_t pos) const;
  // The key of `pos` as float in the frame it was stored in (pre- or post-RoPE), the
  // Hadamard rotation undone: out [kv_dim].
  void KeyFloat(size_t slot, int64_t pos, std::span<float> out, int32_t g_begin,
                int32_t g_end) const;  // KV heads [g_begin, g_end) only

  ModelConfig config_;
  QuantizedKvStore& store_;
  PageTable table_;
  AttentionWindow window_;
  Rope rope_;
  std::vector<float> key_;  // Store's scratch
  // Attend's scratch, one per thread.
  struct AttendScratch {
    std::vector<float> float_keys, float_values, key;  // FloatPositions
    std::vector<float> q_rot, row;                      // one query head, its weights
    std::vector<Kv4Ref> keys, values;  // KV4: one KV head's quantized positions
    // KV4 query blocks: rotated queries, scores, weights, outputs.
    std::vector<float> q_block, scores, weights, out_block;
  };
  // The positions a query at `pos` reads with float keys, for KV head g: the Λ sinks (keys
  // rotated to their in-cache positions), then the window's fp16 positions; their keys and
  // values as float into sc.float_keys / sc.float_values [n, head_dim]. Returns n; the
  // quantized window follows from QuantizedWindowStart(pos).
  int64_t FloatPositions(int32_t layer, int64_t pos, int32_t g, AttendScratch& sc) const;
};

// The dense form: one sequence, `capacity` positions, full causal attention
// (the quantized counterpart of KvCache).
class QuantizedKvCache : public SequenceKv {
 public:
  QuantizedKvCache(const ModelConfig& config, const KvFormat& format, int32_t capacity);

  int32_t capacity() const { return capacity_; }
  absl::Status CheckWritable(int64_t pos) const override;
  void Store(int32_t layer, int64_t pos, std::span<const float> k,
             std::span<const float> v) override {
    seq_.Store(layer, pos, k, v);
  }
  void Attend(int32_t layer, int64_t pos, std::span<const float> q,
              std::span<float> out) const override {
    seq_.Attend(layer, pos, q, out);
  }
  bool ConcurrentAttend() const override { return true; }
  int32_t AttendParts() const override { return seq_.AttendParts(); }
  void AttendPart(int32_t layer, int64_t pos, std::span<const float> q, std::span<float> out,
                  int32_t part) const override {
    seq_.AttendPart(layer, pos, q, out, part);
  }

 private:
  int32_t capacity_;
  QuantizedKvStore store_;  // one page of `capacity` slots
  QuantizedSequenceKv seq_;
};

}  // namespace accllm

#endif  // ACCLLM_WORKERS_ENGINE_QUANTIZED_KV_H_
