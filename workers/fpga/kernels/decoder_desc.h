// The model as the decoder kernel sees it: POD descriptors the host writes into a bank once
// per model load, read by accllm_decoder at every launch. One DeviceRef holds
//   ModelDesc, then LayerDesc[n_layers]   (ModelDescBytes(n_layers) bytes, no padding between)
// copied byte for byte (the host and the kernel share the ABI of these trivially copyable
// structs; the kernel memcpy's them, so the ref may sit at any offset).
//
// Units: dims in elements, DeviceRefs in bytes; norms are float32 [dim]; linears and the
// 8-bit tables are the other kernels' descriptors (rce_linear.h, int8_table.h).
#ifndef ACCLLM_WORKERS_FPGA_KERNELS_DECODER_DESC_H_
#define ACCLLM_WORKERS_FPGA_KERNELS_DECODER_DESC_H_

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "workers/fpga/kernels/device_memory.h"  // DeviceRef, DeviceMemory
#include "workers/fpga/kernels/int8_table.h"     // Int8TableDesc
#include "workers/fpga/kernels/kv_pool.h"        // KvPageLayout
#include "workers/fpga/kernels/rce_linear.h"     // LinearDesc

namespace accllm::fpga {

inline constexpr uint32_t kModelDescMagic = 0x4c4d4341;  // "ACML"
inline constexpr uint32_t kModelDescVersion = 1;

struct LayerDesc {
  DeviceRef attn_norm, ffn_norm;  // float32 [dim] each
  // q [dim, dim], k/v [kv_dim, dim], o [dim, dim], gate/up [hidden, dim], down [dim, hidden]
  // (rows = output features, cols = input features, as rce_linear.h's LinearDesc).
  LinearDesc q, k, v, o, gate, up, down;
};

struct ModelDesc {
  uint32_t magic = kModelDescMagic;
  uint32_t version = kModelDescVersion;
  int32_t dim = 0, hidden = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0;
  int32_t head_dim = 0;  // dim / n_heads (even)
  int32_t vocab = 0;
  float norm_eps = 0.0f;  // static_cast<float>(config.norm_eps), as the CPU engine uses it

  // KV cache (quant/kv_quant.h's KvFormat): bits 4 or 8; the first `sink_tokens` positions of
  // a sequence keep fp16 K/V.
  int32_t kv_bits = 4;
  int32_t rotate_keys = 1;  // 0/1: Hadamard-rotate keys and queries
  int32_t sink_tokens = 4;
  int32_t page_size = 16;  // P positions per page

  // The page pool: num_pages pages of kv.page_bytes each, page i at byte i * page_bytes of
  // kv_pool (kv_pool.bytes >= num_pages * page_bytes). kv must equal
  // ComputeKvPageLayout(n_layers, n_kv_heads, head_dim, kv_bits, page_size, sink_tokens).
  DeviceRef kv_pool;
  int32_t num_pages = 0;
  int32_t reserved = 0;
  KvPageLayout kv;

  Int8TableDesc embedding;  // [vocab, dim]
  DeviceRef final_norm;     // float32 [dim]
  Int8TableDesc head;       // [vocab, dim] (may share the embedding's tensors when tied)
};

static_assert(std::is_trivially_copyable_v<LayerDesc>);
static_assert(std::is_trivially_copyable_v<ModelDesc>);

inline uint64_t ModelDescBytes(int32_t n_layers) {
  return sizeof(ModelDesc) + static_cast<uint64_t>(n_layers) * sizeof(LayerDesc);
}

// Host side: writes the descriptor block (ModelDescBytes(m.n_layers) bytes) to dst.
inline void WriteModelDesc(const ModelDesc& m, const LayerDesc* layers, uint8_t* dst) {
  std::memcpy(dst, &m, sizeof(m));
  std::memcpy(dst + sizeof(m), layers, static_cast<size_t>(m.n_layers) * sizeof(LayerDesc));
}

// Kernel side: the header and one layer, copied out of the bank (counted reads).
inline ModelDesc ReadModelDesc(const DeviceMemory& mem, const DeviceRef& ref) {
  ModelDesc m;
  std::memcpy(&m, mem.ReadPart<uint8_t>(ref, 0, sizeof(m)), sizeof(m));
  return m;
}
inline LayerDesc ReadLayerDesc(const DeviceMemory& mem, const DeviceRef& ref, int32_t l) {
  LayerDesc d;
  std::memcpy(&d,
              mem.ReadPart<uint8_t>(ref, sizeof(ModelDesc) + static_cast<uint64_t>(l) * sizeof(d),
                                    sizeof(d)),
              sizeof(d));
  return d;
}

}  // namespace accllm::fpga

#endif  // ACCLLM_WORKERS_FPGA_KERNELS_DECODER_DESC_H_
