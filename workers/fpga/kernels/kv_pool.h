// The KV page pool in the card's HBM: the content of the CPU engine's QuantizedKvStore
// (workers/engine/quantized_kv.h) laid out so that ONE PAGE IS ONE CONTIGUOUS BYTE RANGE (the
// host copies pages byte for byte: copy-on-write of shared prefixes) and one KV head's
// vectors of a page are contiguous (the attention bursts them).
//
// A page holds P positions (slots) × all layers × K and V × kv_heads. Byte offsets inside a
// page (kv = 0 for K, 1 for V; g = KV head; s = slot; F = min(P, sink_tokens)):
//   codes   at codes_offset  + (((l * 2 + kv) * kv_heads + g) * P + s) * code_bytes
//   params  at params_offset + (((l * 2 + kv) * kv_heads + g) * P + s) * 4
//           (fp16 scale, then fp16 zero, little-endian: quant/kv_quant.h's KvQuantParams)
//   fp16    at fp16_offset   + (((l * 2 + kv) * kv_heads + g) * F + s) * head_dim * 2
//           (raw fp16 K or V of the positions p < sink_tokens; slot s = p % P < F)
// with code_bytes = ceil(head_dim * bits / 8),
//   codes_offset  = 0
//   params_offset = n_layers * 2 * kv_heads * P * code_bytes
//   fp16_offset   = params_offset + n_layers * 2 * kv_heads * P * 4
//   page_bytes    = RoundUp(fp16_offset + n_layers * 2 * kv_heads * F * head_dim * 2, 64)
// Page i of the pool starts at byte i * page_bytes of the pool's DeviceRef.
//
// What is stored per position p of a sequence with attention rule (dense | Λ S, W):
//   the key after RoPE at p, except Λ sinks (p < S) stored before RoPE (rotated at read
//   time to AttentionWindow::SinkRopePosition); p < sink_tokens: fp16 K and V; otherwise
//   the key Hadamard-rotated per head (rotate_keys) and quantized, the value quantized.
#ifndef ACCLLM_WORKERS_FPGA_KERNELS_KV_POOL_H_
#define ACCLLM_WORKERS_FPGA_KERNELS_KV_POOL_H_

#include <cstdint>

#include "workers/fpga/kernels/device_memory.h"  // DeviceMemory, DeviceRef

namespace accllm::fpga {

// The largest head_dim the kernels' on-chip vector buffers hold.
inline constexpr int32_t kMaxHeadDim = 512;

struct KvPageLayout {
  int64_t code_bytes = 0;    // of one [head_dim] vector
  int64_t fp16_slots = 0;    // F = min(P, sink_tokens)
  int64_t codes_offset = 0;  // bytes from the page start
  int64_t params_offset = 0;
  int64_t fp16_offset = 0;
  int64_t page_bytes = 0;  // a multiple of 64

  bool operator==(const KvPageLayout&) const = default;
};

KvPageLayout ComputeKvPageLayout(int32_t n_layers, int32_t kv_heads, int32_t head_dim, int32_t bits,
                                 int32_t page_size, int32_t sink_tokens);

// One entry of a sequence's page table: logical page `logical` (positions [logical * P,
// (logical + 1) * P)) lives in physical page `physical` of the pool. Tables are sorted by
// strictly increasing logical index (workers/backend/page_table.h's PageRef).
struct PageEntry {
  int64_t logical = 0;
  int32_t physical = 0;
  int32_t reserved = 0;
};

// The physical page of `pos` in table [count] (binary search), -1 when not paged in.
int32_t LookupPage(const PageEntry* table, int32_t count, int64_t pos, int32_t page_size);

// The pool as the kernels address it.
struct KvPoolView {
  DeviceRef pool;
  KvPageLayout layout;
  int32_t num_pages = 0;
  int32_t n_layers = 0, kv_heads = 0, head_dim = 0, bits = 4, page_size = 16;
  int32_t sink_tokens = 0;
  bool rotate_keys = true;

  bool QuantizedAt(int64_t pos) const { return pos >= sink_tokens; }
  // Byte offsets inside the pool's ref.
  uint64_t CodesAt(int32_t page, int32_t layer, int32_t kv, int32_t g, int32_t slot) const;
  uint64_t ParamsAt(int32_t page, int32_t layer, int32_t kv, int32_t g, int32_t slot) const;
  uint64_t HalfAt(int32_t page, int32_t layer, int32_t kv, int32_t g, int32_t slot) const;
};

// Stores one position's K and V [kv_heads * head_dim] of one layer in slot `slot` of physical
// page `page`: `key` is already in its stored frame (RoPE'd or not: the caller's rule) and is
// not modified. fp16 when !QuantizedAt(pos), else per head: key copied, Hadamard-rotated
// (rotate_keys), quantized; value quantized (QuantizedSequenceKv::Store's arithmetic).
void StoreKv(const DeviceMemory& mem, const KvPoolView& pool, int32_t page, int32_t slot,
             int32_t layer, int64_t pos, const float* key, const float* value);

// One stored vector of KV head g (kv 0 = key, 1 = value) at slot/page/layer, as float in the
// frame it was stored: dequantized (keys still Hadamard-rotated) or fp16 -> float.
// out [head_dim]; `quantized` = pool.QuantizedAt(pos).
void LoadKvVector(const DeviceMemory& mem, const KvPoolView& pool, int32_t page, int32_t slot,
                  int32_t layer, int32_t kv, int32_t g, bool quantized, float* out);

// The raw codes pointer and fp16 scale/zero of a quantized vector (one counted read each).
struct KvCodesRef {
  const uint8_t* codes = nullptr;
  uint16_t scale = 0, zero = 0;
};
KvCodesRef ReadKvCodes(const DeviceMemory& mem, const KvPoolView& pool, int32_t page, int32_t slot,
                       int32_t layer, int32_t kv, int32_t g);

}  // namespace accllm::fpga

#endif  // ACCLLM_WORKERS_FPGA_KERNELS_KV_POOL_H_
