// The token embedding as the decoder sees it: one row per token id, however it
// is stored (float WeightMatrix, or int8 rows with a per-row scale).
#ifndef ACCLLM_WORKERS_ENGINE_EMBEDDING_TABLE_H_
#define ACCLLM_WORKERS_ENGINE_EMBEDDING_TABLE_H_

#include <cstdint>
#include <span>
#include <utility>

#include "workers/engine/weight_matrix.h"  // WeightMatrix

namespace accllm {

class EmbeddingTable {
 public:
  virtual ~EmbeddingTable() = default;
  // Row r (a token id in range) as float32: out [dim].
  virtual void Row(int64_t r, std::span<float> out) const = 0;
};

// The float path: a stored F32/F16/BF16 matrix read in place.
class FloatEmbedding : public EmbeddingTable {
 public:
  explicit FloatEmbedding(WeightMatrix m) : m_(std::move(m)) {}
  void Row(int64_t r, std::span<float> out) const override { m_.Row(r, out); }

 private:
  WeightMatrix m_;
};

}  // namespace accllm

#endif  // ACCLLM_WORKERS_ENGINE_EMBEDDING_TABLE_H_
