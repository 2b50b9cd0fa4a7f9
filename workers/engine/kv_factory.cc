#include "workers/engine/kv_factory.h"

#include <utility>

#include "workers/engine/kv_cache.h"      // KvCache
#include "workers/engine/quantized_kv.h"  // QuantizedKvStore, QuantizedSequenceKv, QuantizedKvCache

namespace accllm {
namespace {

class FloatPagePool : public KvPagePool {
 public:
  FloatPagePool(const ModelConfig& c, int32_t num_pages, int32_t page_size)
      : config_(c), store_(c, num_pages, page_size) {}
  int32_t num_pages() const override { return store_.num_pages(); }
  int32_t page_size() const override { return store_.page_size(); }
  void CopyPage(int32_t from, int32_t to) override { store_.CopyPage(from, to); }
  std::unique_ptr<SequenceKv> Sequence(std::vector<PageRef> pages,
                                       AttentionWindow window) override {
    return std::make_unique<PagedSequenceKv>(config_, store_, std::move(pages), window);
  }

 private:
  ModelConfig config_;
  PagedKvStore store_;
};

class QuantizedPagePool : public KvPagePool {
 public:
  QuantizedPagePool(const ModelConfig& c, const KvFormat& f, int32_t num_pages, int32_t page_size)
      : config_(c), store_(c, f, num_pages, page_size) {}
  int32_t num_pages() const override { return store_.num_pages(); }
  int32_t page_size() const override { return store_.page_size(); }
  void CopyPage(int32_t from, int32_t to) override { store_.CopyPage(from, to); }
  std::unique_ptr<SequenceKv> Sequence(std::vector<PageRef> pages,
                                       AttentionWindow window) override {
    return std::make_unique<QuantizedSequenceKv>(config_, store_, std::move(pages), window);
  }

 private:
  ModelConfig config_;
  QuantizedKvStore store_;
};

}  // namespace

std::unique_ptr<SequenceKv> MakeSequenceKv(const ModelConfig& config, const KvFormat& format,
                                           int32_t capacity) {
  if (format.bits >= 16) return std::make_unique<KvCache>(config, capacity);
  return std::make_unique<QuantizedKvCache>(config, format, capacity);
}

std::unique_ptr<SequenceKv> MakeSequenceKv(const LlamaModel& model, int32_t capacity) {
  return MakeSequenceKv(model.config(), model.kv_format(), capacity);
}

std::unique_ptr<KvPagePool> MakeKvPagePool(const ModelConfig& config, const KvFormat& format,
                                           int32_t num_pages, int32_t page_size) {
  if (format.bits >= 16) return std::make_unique<FloatPagePool>(config, num_pages, page_size);
  return std::make_unique<QuantizedPagePool>(config, format, num_pages, page_size);
}

std::unique_ptr<KvPagePool> MakeKvPagePool(const LlamaModel& model, int32_t num_pages,
                                           int32_t page_size) {
  return MakeKvPagePool(model.config(), model.kv_format(), num_pages, page_size);
}

}  // namespace accllm
