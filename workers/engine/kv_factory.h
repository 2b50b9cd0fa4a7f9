// The KV cache a model wants, chosen from its KvFormat (quantization_config's
// kv_cache): float pages/cache for 16 bits, KV4/KV8 pages otherwise. Callers
// (generation, evaluation, workers) hold only SequenceKv / KvPagePool.
#ifndef ACCLLM_WORKERS_ENGINE_KV_FACTORY_H_
#define ACCLLM_WORKERS_ENGINE_KV_FACTORY_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "model/attention_window.h"      // AttentionWindow
#include "model/config.h"                // ModelConfig
#include "quant/kv_quant.h"              // KvFormat
#include "workers/engine/llama_model.h"  // LlamaModel
#include "workers/engine/paged_kv.h"     // PageRef
#include "workers/engine/sequence_kv.h"  // SequenceKv

namespace accllm {

// A pool of KV pages of one model, in the model's KV format.
class KvPagePool {
 public:
  virtual ~KvPagePool() = default;
  virtual int32_t num_pages() const = 0;
  virtual int32_t page_size() const = 0;
  virtual void CopyPage(int32_t from, int32_t to) = 0;
  // A sequence's view over its page table (sorted by logical page; see PagedSequenceKv).
  // The view references the pool: keep the pool alive while it is used.
  virtual std::unique_ptr<SequenceKv> Sequence(std::vector<PageRef> pages,
                                               AttentionWindow window) = 0;
};

// Dense cache of `capacity` positions (full causal attention).
std::unique_ptr<SequenceKv> MakeSequenceKv(const ModelConfig& config, const KvFormat& format,
                                           int32_t capacity);
std::unique_ptr<SequenceKv> MakeSequenceKv(const LlamaModel& model, int32_t capacity);

std::unique_ptr<KvPagePool> MakeKvPagePool(const ModelConfig& config, const KvFormat& format,
                                           int32_t num_pages, int32_t page_size);
std::unique_ptr<KvPagePool> MakeKvPagePool(const LlamaModel& model, int32_t num_pages,
                                           int32_t page_size);

}  // namespace accllm

#endif  // ACCLLM_WORKERS_ENGINE_KV_FACTORY_H_
