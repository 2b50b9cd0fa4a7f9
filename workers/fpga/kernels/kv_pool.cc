#include "workers/fpga/kernels/kv_pool.h"

#include <cstring>  // std::memcpy

#include "workers/fpga/kernels/fp16.h"      // HalfBitsToFloat
#include "workers/fpga/kernels/hls.h"       // ACCLLM_HLS
#include "workers/fpga/kernels/kv_codec.h"  // QuantizeKvVector, HadamardTransformInPlace, ...

namespace accllm::fpga {
namespace {

inline void PutU16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v & 0xFF);
  p[1] = static_cast<uint8_t>(v >> 8);
}
inline uint16_t GetU16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | (static_cast<uint16_t>(p[1]) << 8));
}

}  // namespace

KvPageLayout ComputeKvPageLayout(int32_t n_layers, int32_t kv_heads, int32_t head_dim, int32_t bits,
                                 int32_t page_size, int32_t sink_tokens) {
  KvPageLayout k;
  const int64_t vectors = static_cast<int64_t>(n_layers) * 2 * kv_heads;  // per slot
  k.code_bytes = KvCodeBytes(head_dim, bits);
  k.fp16_slots = sink_tokens < page_size ? (sink_tokens > 0 ? sink_tokens : 0) : page_size;
  k.codes_offset = 0;
  k.params_offset = vectors * page_size * k.code_bytes;
  k.fp16_offset = k.params_offset + vectors * page_size * 4;
  const int64_t raw = k.fp16_offset + vectors * k.fp16_slots * head_dim * 2;
  k.page_bytes = (raw + 63) / 64 * 64;
  return k;
}

int32_t LookupPage(const PageEntry* table, int32_t count, int64_t pos, int32_t page_size) {
  if (pos < 0) return -1;
  const int64_t logical = pos / page_size;
  int32_t lo = 0, hi = count;  // first entry with logical >= wanted
  while (lo < hi) {
    const int32_t mid = lo + (hi - lo) / 2;
    if (table[mid].logical < logical) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo < count && table[lo].logical == logical ? table[lo].physical : -1;
}

uint64_t KvPoolView::CodesAt(int32_t page, int32_t layer, int32_t kv, int32_t g,
                             int32_t slot) const {
  const int64_t v = ((static_cast<int64_t>(layer) * 2 + kv) * kv_heads + g) * page_size + slot;
  return static_cast<uint64_t>(page) * layout.page_bytes + layout.codes_offset +
         v * layout.code_bytes;
}

uint64_t KvPoolView::ParamsAt(int32_t page, int32_t layer, int32_t kv, int32_t g,
                              int32_t slot) const {
  const int64_t v = ((static_cast<int64_t>(layer) * 2 + kv) * kv_heads + g) * page_size + slot;
  return static_cast<uint64_t>(page) * layout.page_bytes + layout.params_offset + v * 4;
}

uint64_t KvPoolView::HalfAt(int32_t page, int32_t layer, int32_t kv, int32_t g,
                            int32_t slot) const {
  const int64_t v =
      ((static_cast<int64_t>(layer) * 2 + kv) * kv_heads + g) * layout.fp16_slots + slot;
  return static_cast<uint64_t>(page) * layout.page_bytes + layout.fp16_offset + v * head_dim * 2;
}

void StoreKv(const DeviceMemory& mem, const KvPoolView& pool, int32_t page, int32_t slot,
             int32_t layer, int64_t pos, const float* key, const float* value) {
  const int32_t hd = pool.head_dim;
  const uint64_t cb = static_cast<uint64_t>(pool.layout.code_bytes);
  if (!pool.QuantizedAt(pos)) {
    for (int32_t g = 0; g < pool.kv_heads; ++g) {
      for (int32_t kv = 0; kv < 2; ++kv) {
        const float* src = (kv == 0 ? key : value) + static_cast<int64_t>(g) * hd;
        uint8_t* dst = mem.WritePart<uint8_t>(pool.pool, pool.HalfAt(page, layer, kv, g, slot),
                                              static_cast<uint64_t>(hd) * 2);
        for (int32_t d = 0; d < hd; ++d) {
          ACCLLM_HLS(PIPELINE II = 1)
          PutU16(dst + 2 * d, FloatToHalfBits(src[d]));
        }
      }
    }
    return;
  }
  float buf[kMaxHeadDim];
  for (int32_t g = 0; g < pool.kv_heads; ++g) {
    for (int32_t kv = 0; kv < 2; ++kv) {
      const float* src = (kv == 0 ? key : value) + static_cast<int64_t>(g) * hd;
      std::memcpy(buf, src, static_cast<size_t>(hd) * sizeof(float));
      if (kv == 0 && pool.rotate_keys) HadamardTransformInPlace(buf, hd);
      uint16_t scale, zero;
      uint8_t* codes =
          mem.WritePart<uint8_t>(pool.pool, pool.CodesAt(page, layer, kv, g, slot), cb);
      QuantizeKvVector(buf, hd, pool.bits, codes, &scale, &zero);
      uint8_t* params =
          mem.WritePart<uint8_t>(pool.pool, pool.ParamsAt(page, layer, kv, g, slot), 4);
      PutU16(params, scale);
      PutU16(params + 2, zero);
    }
  }
}

KvCodesRef ReadKvCodes(const DeviceMemory& mem, const KvPoolView& pool, int32_t page, int32_t slot,
                       int32_t layer, int32_t kv, int32_t g) {
  KvCodesRef r;
  r.codes = mem.ReadPart<uint8_t>(pool.pool, pool.CodesAt(page, layer, kv, g, slot),
                                  static_cast<uint64_t>(pool.layout.code_bytes));
  const uint8_t* p = mem.ReadPart<uint8_t>(pool.pool, pool.ParamsAt(page, layer, kv, g, slot), 4);
  r.scale = GetU16(p);
  r.zero = GetU16(p + 2);
  return r;
}

void LoadKvVector(const DeviceMemory& mem, const KvPoolView& pool, int32_t page, int32_t slot,
                  int32_t layer, int32_t kv, int32_t g, bool quantized, float* out) {
  const int32_t hd = pool.head_dim;
  if (!quantized) {
    const uint8_t* h = mem.ReadPart<uint8_t>(pool.pool, pool.HalfAt(page, layer, kv, g, slot),
                                             static_cast<uint64_t>(hd) * 2);
    for (int32_t d = 0; d < hd; ++d) {
      ACCLLM_HLS(PIPELINE II = 1)
      out[d] = HalfBitsToFloat(GetU16(h + 2 * d));
    }
    return;
  }
  const KvCodesRef r = ReadKvCodes(mem, pool, page, slot, layer, kv, g);
  DequantizeKvVector(r.codes, r.scale, r.zero, pool.bits, hd, out);
}

}  // namespace accllm::fpga
