// The float32 reference engine's dense KV cache for one sequence: every
// position is kept and attended (full causal attention).
#ifndef ACCLLM_WORKERS_ENGINE_KV_CACHE_H_
#define ACCLLM_WORKERS_ENGINE_KV_CACHE_H_

#include <cstdint>
#include <span>
#include <vector>

#include "model/config.h"                // ModelConfig
#include "model/rope.h"                  // Rope
#include "workers/engine/sequence_kv.h"  // SequenceKv

namespace accllm {

class KvCache : public SequenceKv {
 public:
  // Room for `capacity` positions of every layer.
  KvCache(const ModelConfig& config, int32_t capacity);

  int32_t capacity() const { return capacity_; }

  absl::Status CheckWritable(int64_t pos) const override;
  void Store(int32_t layer, int64_t pos, std::span<const float> k,
             std::span<const float> v) override;
  void Attend(int32_t layer, int64_t pos, std::span<const float> q,
              std::span<float> out) const override;
  // One part per KV head, so a prefill's attention spreads over the kernel threads.
  bool ConcurrentAttend() const override { return true; }
  int32_t AttendParts() const override { return config_.n_kv_heads; }
  void AttendPart(int32_t layer, int64_t pos, std::span<const float> q, std::span<float> out,
                  int32_t part) const override;

  // [kv_heads * head_dim] of one position; keys are stored after RoPE.
  std::span<const float> Key(int32_t layer, int64_t pos) const;
  std::span<const float> Value(int32_t layer, int64_t pos) const;

 private:
  size_t Offset(int32_t layer, int64_t pos) const;

  ModelConfig config_;
  Rope rope_;
  int32_t capacity_;
  std::vector<float> keys_;    // [layers, capacity, kv_dim]
  std::vector<float> values_;  // [layers, capacity, kv_dim]
};

}  // namespace accllm

#endif  // ACCLLM_WORKERS_ENGINE_KV_CACHE_H_
