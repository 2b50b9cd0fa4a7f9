// Where one sequence's keys and values live and how a query reads them: the
// seam between the decoder layers and the attention variant (dense cache,
// paged Λ-shaped cache, later quantized KV4 pages).
#ifndef ACCLLM_WORKERS_ENGINE_SEQUENCE_KV_H_
#define ACCLLM_WORKERS_ENGINE_SEQUENCE_KV_H_

#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"  // absl::Status
#include "model/config.h"        // ModelConfig

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

// Softmax attention of every query head over n keys, GQA-grouped:
// out_h = Σ_i softmax_i(q_h · k_i / √d) v_i, with k_i = key(i), v_i = value(i)
// pointing at [kv_dim] vectors. `scores` is scratch of at least n floats.
template <typename KeyAt, typename ValueAt>
void AttendOver(const ModelConfig& c, std::span<const float> q, int64_t n, KeyAt key,
                ValueAt value, std::vector<float>& scores, std::span<float> out) {
  const int hd = c.head_dim();
  const int group = c.n_heads / c.n_kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  scores.resize(n);
  for (int h = 0; h < c.n_heads; ++h) {
    const float* qh = q.data() + h * hd;
    const int kv_off = (h / group) * hd;
    float max = -INFINITY;
    for (int64_t i = 0; i < n; ++i) {
      const float* k = key(i) + kv_off;
      float dot = 0.0f;
      for (int d = 0; d < hd; ++d) dot += qh[d] * k[d];
      scores[i] = dot * scale;
      max = std::max(max, scores[i]);
    }
    float sum = 0.0f;
    for (int64_t i = 0; i < n; ++i) sum += (scores[i] = std::exp(scores[i] - max));
    float* o = out.data() + h * hd;
    std::fill(o, o + hd, 0.0f);
    for (int64_t i = 0; i < n; ++i) {
      const float w = scores[i] / sum;
      const float* v = value(i) + kv_off;
      for (int d = 0; d < hd; ++d) o[d] += w * v[d];
    }
  }
}

}  // namespace accllm

#endif  // ACCLLM_WORKERS_ENGINE_SEQUENCE_KV_H_
