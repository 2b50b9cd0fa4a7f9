#include "workers/engine/paged_kv.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"  // absl::StrCat

namespace accllm {

PagedKvStore::PagedKvStore(const ModelConfig& config, int32_t num_pages, int32_t page_size)
    : kv_dim_(config.kv_dim()),
      n_layers_(config.n_layers),
      num_pages_(num_pages),
      page_size_(page_size),
      keys_(static_cast<size_t>(num_pages) * config.n_layers * page_size * config.kv_dim()),
      values_(keys_.size()) {}

size_t PagedKvStore::Offset(int32_t page, int32_t layer, int32_t slot) const {
  return ((static_cast<size_t>(page) * n_layers_ + layer) * page_size_ + slot) * kv_dim_;
}
float* PagedKvStore::Key(int32_t page, int32_t layer, int32_t slot) {
  return keys_.data() + Offset(page, layer, slot);
}
float* PagedKvStore::Value(int32_t page, int32_t layer, int32_t slot) {
  return values_.data() + Offset(page, layer, slot);
}
const float* PagedKvStore::Key(int32_t page, int32_t layer, int32_t slot) const {
  return keys_.data() + Offset(page, layer, slot);
}
const float* PagedKvStore::Value(int32_t page, int32_t layer, int32_t slot) const {
  return values_.data() + Offset(page, layer, slot);
}
void PagedKvStore::CopyPage(int32_t from, int32_t to) {
  const size_t n = static_cast<size_t>(n_layers_) * page_size_ * kv_dim_;
  std::memcpy(keys_.data() + Offset(to, 0, 0), keys_.data() + Offset(from, 0, 0), n * 4);
  std::memcpy(values_.data() + Offset(to, 0, 0), values_.data() + Offset(from, 0, 0), n * 4);
}

PagedSequenceKv::PagedSequenceKv(const ModelConfig& config, PagedKvStore& store,
                                 std::vector<PageRef> pages, AttentionWindow window)
    : config_(config),
      store_(store),
      table_(std::move(pages), store.page_size()),
      window_(window),
      rope_(config.head_dim(), config.rope_theta) {}


absl::Status PagedSequenceKv::CheckWritable(int64_t pos) const {
  return table_.CheckCovers(pos, window_, store_.num_pages());
}

void PagedSequenceKv::Store(int32_t layer, int64_t pos, std::span<const float> k,
                            std::span<const float> v) {
  const int32_t page = PhysicalPage(pos);
  const int32_t slot = static_cast<int32_t>(pos % store_.page_size());
  float* kd = store_.Key(page, layer, slot);
  std::copy(k.begin(), k.end(), kd);
  if (!window_.IsSink(pos)) rope_.ApplyAll({kd, k.size()}, pos);
  std::copy(v.begin(), v.end(), store_.Value(page, layer, slot));
}

void PagedSequenceKv::Attend(int32_t layer, int64_t pos, std::span<const float> q,
                             std::span<float> out) const {
  const int32_t p_size = store_.page_size();
  const int kv_dim = config_.kv_dim();
  const int64_t n_sinks = window_.SinkCount(pos);
  const int64_t first = window_.WindowStart(pos);
  key_ptrs_.clear();
  value_ptrs_.clear();
  sink_keys_.resize(static_cast<size_t>(std::max<int64_t>(n_sinks, 1)) * kv_dim);
  for (int64_t j = 0; j < n_sinks; ++j) {
    const int32_t page = PhysicalPage(j);
    const int32_t slot = static_cast<int32_t>(j % p_size);
    float* rotated = sink_keys_.data() + j * kv_dim;
    std::memcpy(rotated, store_.Key(page, layer, slot), kv_dim * sizeof(float));
    rope_.ApplyAll({rotated, static_cast<size_t>(kv_dim)},
                   window_.SinkRopePosition(pos, static_cast<int32_t>(j)));
    key_ptrs_.push_back(rotated);
    value_ptrs_.push_back(store_.Value(page, layer, slot));
  }
  for (int64_t p = first; p <= pos; ++p) {
    const int32_t page = PhysicalPage(p);
    const int32_t slot = static_cast<int32_t>(p % p_size);
    key_ptrs_.push_back(store_.Key(page, layer, slot));
    value_ptrs_.push_back(store_.Value(page, layer, slot));
  }
  AttendOver(
      config_, q, static_cast<int64_t>(key_ptrs_.size()), [&](int64_t i) { return key_ptrs_[i]; },
      [&](int64_t i) { return value_ptrs_[i]; }, scores_, out);
}

}  // namespace accllm
