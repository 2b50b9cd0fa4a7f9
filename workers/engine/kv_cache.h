// The float32 reference engine's KV cache: dense, one sequence.
#ifndef ACCLLM_WORKERS_ENGINE_KV_CACHE_H_
#define ACCLLM_WORKERS_ENGINE_KV_CACHE_H_

#include <cstdint>
#include <span>
#include <vector>

#include "model/config.h"  // ModelConfig

namespace accllm {

class KvCache {
 public:
  // Room for `capacity` positions of every layer.
  KvCache(const ModelConfig& config, int32_t capacity);

  int32_t capacity() const { return capacity_; }
  // [kv_heads * head_dim] of one position; keys are stored after RoPE.
  std::span<float> Key(int32_t layer, int32_t pos);
  std::span<float> Value(int32_t layer, int32_t pos);
  std::span<const float> Key(int32_t layer, int32_t pos) const;
  std::span<const float> Value(int32_t layer, int32_t pos) const;

 private:
  size_t Offset(int32_t layer, int32_t pos) const;

  int32_t kv_dim_;
  int32_t capacity_;
  std::vector<float> keys_;    // [layers, capacity, kv_dim]
  std::vector<float> values_;  // [layers, capacity, kv_dim]
};

}  // namespace accllm

#endif  // ACCLLM_WORKERS_ENGINE_KV_CACHE_H_
