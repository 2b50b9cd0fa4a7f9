#include "workers/engine/kv_cache.h"

#include <algorithm>

#include "absl/strings/str_cat.h"  // absl::StrCat

namespace accllm {

KvCache::KvCache(const ModelConfig& config, int32_t capacity)
    : config_(config),
      rope_(config.head_dim(), config.rope_theta),
      capacity_(capacity),
      keys_(static_cast<size_t>(config.n_layers) * capacity * config.kv_dim()),
      values_(keys_.size()) {}

size_t KvCache::Offset(int32_t layer, int64_t pos) const {
  return (static_cast<size_t>(layer) * capacity_ + pos) * config_.kv_dim();
}

absl::Status KvCache::CheckWritable(int64_t pos) const {
  if (pos < 0 || pos >= capacity_) {
    return absl::OutOfRangeError(
        absl::StrCat("position ", pos, " is outside the KV cache [0, ", capacity_, ")"));
  }
  return absl::OkStatus();
}

void KvCache::Store(int32_t layer, int64_t pos, std::span<const float> k,
                    std::span<const float> v) {
  float* kd = keys_.data() + Offset(layer, pos);
  std::copy(k.begin(), k.end(), kd);
  rope_.ApplyAll({kd, k.size()}, pos);
  std::copy(v.begin(), v.end(), values_.data() + Offset(layer, pos));
}

void KvCache::Attend(int32_t layer, int64_t pos, std::span<const float> q,
                     std::span<float> out) const {
  for (int32_t part = 0; part < config_.n_kv_heads; ++part) AttendPart(layer, pos, q, out, part);
}

void KvCache::AttendPart(int32_t layer, int64_t pos, std::span<const float> q, std::span<float> out,
                         int32_t part) const {
  thread_local std::vector<float> scores;  // parts may run on several threads at once
  AttendOverKvHeads(
      config_, q, pos + 1, [&](int64_t t) { return keys_.data() + Offset(layer, t); },
      [&](int64_t t) { return values_.data() + Offset(layer, t); }, scores, out, part, part + 1);
}

std::span<const float> KvCache::Key(int32_t layer, int64_t pos) const {
  return {keys_.data() + Offset(layer, pos), static_cast<size_t>(config_.kv_dim())};
}
std::span<const float> KvCache::Value(int32_t layer, int64_t pos) const {
  return {values_.data() + Offset(layer, pos), static_cast<size_t>(config_.kv_dim())};
}

}  // namespace accllm
