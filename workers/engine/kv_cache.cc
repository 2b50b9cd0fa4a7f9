#include "workers/engine/kv_cache.h"

namespace accllm {

KvCache::KvCache(const ModelConfig& config, int32_t capacity)
    : kv_dim_(config.kv_dim()),
      capacity_(capacity),
      keys_(static_cast<size_t>(config.n_layers) * capacity * config.kv_dim()),
      values_(keys_.size()) {}

size_t KvCache::Offset(int32_t layer, int32_t pos) const {
  return (static_cast<size_t>(layer) * capacity_ + pos) * kv_dim_;
}

std::span<float> KvCache::Key(int32_t layer, int32_t pos) {
  return {keys_.data() + Offset(layer, pos), static_cast<size_t>(kv_dim_)};
}
std::span<float> KvCache::Value(int32_t layer, int32_t pos) {
  return {values_.data() + Offset(layer, pos), static_cast<size_t>(kv_dim_)};
}
std::span<const float> KvCache::Key(int32_t layer, int32_t pos) const {
  return {keys_.data() + Offset(layer, pos), static_cast<size_t>(kv_dim_)};
}
std::span<const float> KvCache::Value(int32_t layer, int32_t pos) const {
  return {values_.data() + Offset(layer, pos), static_cast<size_t>(kv_dim_)};
}

}  // namespace accllm
