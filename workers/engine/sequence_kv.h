// Where one sequence's keys and values live and how a query reads them: the
// seam between the decoder layers and the attention variant (dense cache,
// paged Λ-shaped cache, later quantized KV4 pages).
#ifndef ACCLLM_WORKERS_ENGINE_SEQUENCE_KV_H_
#define ACCLLM_WORKERS_ENGINE_SEQUENCE_KV_H_

#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"           // absl::Status
#include "model/config.h"                 // ModelConfig
#include "workers/cpu/float_attention.h"  // FloatAttendGroup

namespace accllm {

class SequenceKv {
 public:
  virtual ~SequenceKv() = default;

  // OK when position `pos` can be stored (capacity, a page for it).
  virtual absl::Status CheckWritable(int64_t pos) const = 0;
  // k: [kv_dim] *before* RoPE (the store decides where it is rotated); v: [kv_dim].
  virtual void Store(int32_t layer, int64_t pos, std::span<const float> k,
                     std::span<const float> v) = 0;
  // q: [n_heads * head_dim] after RoPE at `pos`; writes out [n_heads * head_dim].
  virtual void Attend(int32_t layer, int64_t pos, std::span<const float> q,
                      std::span<float> out) const = 0;
  // True when Attend may run on several threads at once (for different positions whose
  // K/V are all stored); the engine then spreads a step's attention over its threads.
  virtual bool ConcurrentAttend() const { return false; }
  // Attend split into independent parts (e.g. one per KV head) that write disjoint heads of
  // `out`; running every part equals Attend. Lets one decode token use several threads.
  virtual int32_t AttendParts() const { return 1; }
  virtual void AttendPart(int32_t layer, int64_t pos, std::span<const float> q,
                          std::span<float> out, int32_t /*part*/) const {
    Attend(layer, pos, q, out);
  }
  // AttendPart for `count` consecutive positions [pos0, pos0 + count) of this sequence (a
  // prefill chunk's), query and output rows `stride` floats apart. A cache may read each
  // key once for all of them; the results equal AttendPart's per position, bit for bit.
  virtual void AttendBlockPart(int32_t layer, int64_t pos0, int32_t count, const float* q,
                               float* out, int64_t stride, int32_t part) const {
    const size_t width = static_cast<size_t>(stride);
    for (int32_t t = 0; t < count; ++t) {
      AttendPart(layer, pos0 + t, {q + t * stride, width}, {out + t * stride, width}, part);
    }
  }
};

// Softmax attention of the query heads of KV heads [kv_begin, kv_end) over n keys,
// GQA-grouped: out_h = Σ_i softmax_i(q_h · k_i / √d) v_i, with k_i = key(i), v_i = value(i)
// pointing at [kv_dim] vectors; the SIMD kernel of workers/cpu/float_attention.h. `scores` is
// scratch (resized here).
template <typename KeyAt, typename ValueAt>
void AttendOverKvHeads(const ModelConfig& c, std::span<const float> q, int64_t n, KeyAt key,
                       ValueAt value, std::vector<float>& scores, std::span<float> out,
                       int kv_begin, int kv_end) {
  const int hd = c.head_dim();
  const int group = c.n_heads / c.n_kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  thread_local std::vector<const float*> keys, values;
  keys.resize(static_cast<size_t>(n));
  values.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    keys[i] = key(i);
    values[i] = value(i);
  }
  scores.resize(static_cast<size_t>(group * n));
  for (int kv = kv_begin; kv < kv_end; ++kv) {
    FloatAttendGroup(q.data() + kv * group * hd, group, hd, keys.data(), values.data(), kv * hd, n,
                     scale, scores.data(), out.data() + kv * group * hd);
  }
}

// Every query head.
template <typename KeyAt, typename ValueAt>
void AttendOver(const ModelConfig& c, std::span<const float> q, int64_t n, KeyAt key, ValueAt value,
                std::vector<float>& scores, std::span<float> out) {
  AttendOverKvHeads(c, q, n, key, value, scores, out, 0, c.n_kv_heads);
}

}  // namespace accllm

#endif  // ACCLLM_WORKERS_ENGINE_SEQUENCE_KV_H_
