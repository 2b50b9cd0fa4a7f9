#include "workers/engine/quantized_kv.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"       // absl::StrCat
#include "model/dtype.h"                // FloatToHalf, HalfToFloat
#include "workers/cpu/kv4_attention.h"  // Kv4Scores, Kv4AccumulateValues, SoftmaxInPlace

namespace accllm {

namespace {

// w[i] = scale · (q · keys_i) for n float keys [n, hd].
void FloatScores(const float* q, const float* keys, int64_t n, int hd, float scale, float* w) {
  for (int64_t i = 0; i < n; ++i) {
    const float* k = keys + i * hd;
    float dot = 0.0f;
    for (int d = 0; d < hd; ++d) dot += q[d] * k[d];
    w[i] = dot * scale;
  }
}

// o [hd] += Σ_i w_i · values_i for n float values [n, hd].
void AddFloatValues(const float* w, const float* values, int64_t n, int hd, float* o) {
  for (int64_t i = 0; i < n; ++i) {
    const float* v = values + i * hd;
    for (int d = 0; d < hd; ++d) o[d] += w[i] * v[d];
  }
}

}  // namespace

QuantizedKvStore::QuantizedKvStore(const ModelConfig& config, const KvFormat& format,
                                   int32_t num_pages, int32_t page_size)
    : format_(format),
      kv_heads_(config.n_kv_heads),
      kv_dim_(config.kv_dim()),
      n_layers_(config.n_layers),
      num_pages_(num_pages),
      page_size_(page_size),
      code_bytes_(KvCodeBytes(config.head_dim(), format.bits)) {
  const size_t slots = static_cast<size_t>(num_pages) * n_layers_ * page_size;
  k_codes_.resize(slots * kv_heads_ * code_bytes_);
  v_codes_.resize(k_codes_.size());
  k_params_.resize(slots * kv_heads_);
  v_params_.resize(k_params_.size());
  k_half_.resize(slots * kv_dim_);
  v_half_.resize(k_half_.size());
}

int64_t QuantizedKvStore::bytes() const {
  return static_cast<int64_t>(k_codes_.size() * 2 + k_params_.size() * 2 * sizeof(KvQuantParams) +
                              k_half_.size() * 2 * sizeof(uint16_t));
}

size_t QuantizedKvStore::Slot(int32_t page, int32_t layer, int32_t slot) const {
  return (static_cast<size_t>(page) * n_layers_ + layer) * page_size_ + slot;
}

void QuantizedKvStore::CopyPage(int32_t from, int32_t to) {
  const size_t per_page = static_cast<size_t>(n_layers_) * page_size_;
  auto copy = [&](auto& v, size_t width) {
    std::copy_n(v.begin() + from * per_page * width, per_page * width,
                v.begin() + to * per_page * width);
  };
  copy(k_codes_, kv_heads_ * code_bytes_);
  copy(v_codes_, kv_heads_ * code_bytes_);
  copy(k_params_, kv_heads_);
  copy(v_params_, kv_heads_);
  copy(k_half_, kv_dim_);
  copy(v_half_, kv_dim_);
}

QuantizedSequenceKv::QuantizedSequenceKv(const ModelConfig& config, QuantizedKvStore& store,
                                         std::vector<PageRef> pages, AttentionWindow window)
    : config_(config),
      store_(store),
      table_(std::move(pages), store.page_size()),
      window_(window),
      rope_(config.head_dim(), config.rope_theta) {}

size_t QuantizedSequenceKv::SlotOf(int32_t layer, int64_t pos) const {
  return store_.Slot(PhysicalPage(pos), layer, static_cast<int32_t>(pos % store_.page_size()));
}

absl::Status QuantizedSequenceKv::CheckWritable(int64_t pos) const {
  return table_.CheckCovers(pos, window_, store_.num_pages());
}

void QuantizedSequenceKv::Store(int32_t layer, int64_t pos, std::span<const float> k,
                                std::span<const float> v) {
  const KvFormat& f = store_.format();
  const int hd = config_.head_dim();
  const size_t s = SlotOf(layer, pos);
  key_.assign(k.begin(), k.end());
  if (!window_.IsSink(pos)) rope_.ApplyAll(key_, pos);  // Λ sinks: RoPE at read time
  if (!f.QuantizedAt(pos)) {
    for (size_t i = 0; i < key_.size(); ++i) {
      store_.KeyHalf(s)[i] = FloatToHalf(key_[i]);
      store_.ValueHalf(s)[i] = FloatToHalf(v[i]);
    }
    return;
  }
  const int64_t cb = store_.code_bytes();
  for (int h = 0; h < config_.n_kv_heads; ++h) {
    std::span<float> kh(key_.data() + h * hd, static_cast<size_t>(hd));
    RotateKeyOrQuery(f, kh);
    store_.KeyParams(s)[h] =
        QuantizeKv(kh, f.bits, {store_.KeyCodes(s) + h * cb, static_cast<size_t>(cb)});
    store_.ValueParams(s)[h] = QuantizeKv(v.subspan(h * hd, hd), f.bits,
                                          {store_.ValueCodes(s) + h * cb, static_cast<size_t>(cb)});
  }
}

void QuantizedSequenceKv::KeyFloat(size_t s, int64_t pos, std::span<float> out, int32_t g_begin,
                                   int32_t g_end) const {
  const KvFormat& f = store_.format();
  const int hd = config_.head_dim();
  if (!f.QuantizedAt(pos)) {
    for (int64_t i = g_begin * hd; i < g_end * hd; ++i) out[i] = HalfToFloat(store_.KeyHalf(s)[i]);
    return;
  }
  const int64_t cb = store_.code_bytes();
  for (int h = g_begin; h < g_end; ++h) {
    std::span<float> kh = out.subspan(h * hd, hd);
    DequantizeKv({store_.KeyCodes(s) + h * cb, static_cast<size_t>(cb)}, store_.KeyParams(s)[h],
                 f.bits, kh);
    RotateKeyOrQuery(f, kh);  // the normalized Hadamard transform is its own inverse
  }
}

void QuantizedSequenceKv::Attend(int32_t layer, int64_t pos, std::span<const float> q,
                                 std::span<float> out) const {
  AttendKvHeads(layer, pos, q, out, 0, config_.n_kv_heads);
}

void QuantizedSequenceKv::AttendPart(int32_t layer, int64_t pos, std::span<const float> q,
                                     std::span<float> out, int32_t part) const {
  AttendKvHeads(layer, pos, q, out, part, part + 1);
}

void QuantizedSequenceKv::AttendKvHeads(int32_t layer, int64_t pos, std::span<const float> q,
                                        std::span<float> out, int32_t g_begin,
                                        int32_t g_end) const {
  const ModelConfig& c = config_;
  const KvFormat& f = store_.format();
  const int hd = c.head_dim();
  if (f.bits == 4 && hd % 2 == 0) {
    for (int32_t g = g_begin; g < g_end; ++g) {
      AttendKv4Block(layer, pos, 1, q.data(), out.data(), static_cast<int64_t>(q.size()), g);
    }
    return;
  }
  const int group = c.n_heads / c.n_kv_heads;
  const int64_t cb = store_.code_bytes();
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  // KV8: the scalar functions of quant/kv_quant.h, one query head at a time.
  thread_local AttendScratch sc;  // tokens of one sequence may attend concurrently
  const int64_t qa = QuantizedWindowStart(pos);
  for (int32_t g = g_begin; g < g_end; ++g) {
    const int64_t n_float = FloatPositions(layer, pos, g, sc);
    const int64_t n = n_float + (pos - qa + 1);
    sc.row.resize(n);
    for (int h = g * group; h < (g + 1) * group; ++h) {
      // Quantized keys are read in their rotated frame; float keys with the plain query.
      sc.q_rot.assign(q.begin() + h * hd, q.begin() + (h + 1) * hd);
      RotateKeyOrQuery(f, sc.q_rot);
      float* w = sc.row.data();
      FloatScores(q.data() + h * hd, sc.float_keys.data(), n_float, hd, scale, w);
      for (int64_t p = qa; p <= pos; ++p) {
        const size_t s = SlotOf(layer, p);
        w[n_float + p - qa] =
            DotQuantizedKey(sc.q_rot, {store_.KeyCodes(s) + g * cb, static_cast<size_t>(cb)},
                            store_.KeyParams(s)[g], f.bits) *
            scale;
      }
      float max = -INFINITY, sum = 0.0f;
      for (int64_t i = 0; i < n; ++i) max = std::max(max, w[i]);
      for (int64_t i = 0; i < n; ++i) sum += (w[i] = std::exp(w[i] - max));
      for (int64_t i = 0; i < n; ++i) w[i] /= sum;
      float* o = out.data() + h * hd;
      std::fill(o, o + hd, 0.0f);
      AddFloatValues(w, sc.float_values.data(), n_float, hd, o);
      for (int64_t p = qa; p <= pos; ++p) {
        const size_t s = SlotOf(layer, p);
        AccumulateQuantizedValue(w[n_float + p - qa],
                                 {store_.ValueCodes(s) + g * cb, static_cast<size_t>(cb)},
                                 store_.ValueParams(s)[g], f.bits, {o, static_cast<size_t>(hd)});
      }
    }
  }
}

int64_t QuantizedSequenceKv::FloatPositions(int32_t layer, int64_t pos, int32_t g,
                                            AttendScratch& sc) const {
  const KvFormat& f = store_.format();
  const int hd = config_.head_dim();
  const int64_t cb = store_.code_bytes();
  const int64_t n_sinks = window_.SinkCount(pos);
  // (A Λ query inside the sinks has an empty window: WindowStart(pos) > pos.)
  const int64_t ws = std::min(window_.WindowStart(pos), pos + 1);
  const int64_t n_float = n_sinks + (QuantizedWindowStart(pos) - ws);
  sc.float_keys.resize(std::max<int64_t>(n_float, 1) * hd);
  sc.float_values.resize(std::max<int64_t>(n_float, 1) * hd);
  sc.key.resize(config_.kv_dim());
  for (int64_t i = 0; i < n_float; ++i) {
    const int64_t p = i < n_sinks ? i : ws + (i - n_sinks);
    const size_t s = SlotOf(layer, p);
    float* k = sc.float_keys.data() + i * hd;
    float* v = sc.float_values.data() + i * hd;
    KeyFloat(s, p, sc.key, g, g + 1);
    std::copy_n(sc.key.data() + g * hd, hd, k);
    if (i < n_sinks) {
      rope_.ApplyAll({k, static_cast<size_t>(hd)},
                     window_.SinkRopePosition(pos, static_cast<int32_t>(i)));
    }
    if (f.QuantizedAt(p)) {  // a Λ sink past the fp16 tokens
      DequantizeKv({store_.ValueCodes(s) + g * cb, static_cast<size_t>(cb)},
                   store_.ValueParams(s)[g], f.bits, {v, static_cast<size_t>(hd)});
    } else {
      const uint16_t* vh = store_.ValueHalf(s) + g * hd;
      for (int d = 0; d < hd; ++d) v[d] = HalfToFloat(vh[d]);
    }
  }
  return n_float;
}

void QuantizedSequenceKv::AttendBlockPart(int32_t layer, int64_t pos0, int32_t count,
                                          const float* q, float* out, int64_t stride,
                                          int32_t part) const {
  if (store_.format().bits == 4 && config_.head_dim() % 2 == 0) {
    AttendKv4Block(layer, pos0, count, q, out, stride, part);
    return;
  }
  SequenceKv::AttendBlockPart(layer, pos0, count, q, out, stride, part);
}

int64_t QuantizedSequenceKv::QuantizedWindowStart(int64_t pos) const {
  const int64_t first_quantized = store_.format().sink_tokens;  // fp16 before it
  return std::min(pos + 1, std::max(window_.WindowStart(pos), first_quantized));
}

void QuantizedSequenceKv::AttendKv4Block(int32_t layer, int64_t pos0, int32_t count,
                                         const float* q, float* out, int64_t stride,
                                         int32_t g) const {
  const ModelConfig& c = config_;
  const KvFormat& f = store_.format();
  const int hd = c.head_dim();
  const int group = c.n_heads / c.n_kv_heads;
  const int64_t cb = store_.code_bytes();
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  thread_local AttendScratch sc;  // tokens of one sequence may attend concurrently

  // The quantized positions any of the queries reads: [u0, last], one list for all of them.
  const int64_t last = pos0 + count - 1;
  const int64_t u0 = QuantizedWindowStart(pos0);
  const int64_t m = std::max<int64_t>(0, last - u0 + 1);
  sc.keys.resize(m);
  sc.values.resize(m);
  for (int64_t i = 0; i < m; ++i) {
    const size_t s = SlotOf(layer, u0 + i);
    sc.keys[i] = {store_.KeyCodes(s) + g * cb, store_.KeyParams(s)[g]};
    sc.values[i] = {store_.ValueCodes(s) + g * cb, store_.ValueParams(s)[g]};
  }
  // Query rows r = t · group + j (head g · group + j of position pos0 + t), in the keys'
  // rotated frame, for dot products read off the codes.
  const int64_t rows = static_cast<int64_t>(count) * group;
  sc.q_block.resize(rows * hd);
  for (int32_t t = 0; t < count; ++t) {
    for (int j = 0; j < group; ++j) {
      float* r = sc.q_block.data() + (t * group + j) * hd;
      std::copy_n(q + t * stride + (g * group + j) * hd, hd, r);
      RotateKeyOrQuery(f, {r, static_cast<size_t>(hd)});
    }
  }
  sc.scores.resize(rows * m);
  if (m > 0) Kv4Scores(sc.q_block.data(), static_cast<int>(rows), hd, sc.keys, scale,
                       sc.scores.data(), m);
  sc.weights.assign(rows * m, 0.0f);
  sc.out_block.assign(rows * hd, 0.0f);

  for (int32_t t = 0; t < count; ++t) {
    const int64_t pos = pos0 + t;
    const int64_t n_float = FloatPositions(layer, pos, g, sc);
    const int64_t qa = QuantizedWindowStart(pos);
    const int64_t n = n_float + (pos - qa + 1);
    sc.row.resize(n);
    for (int j = 0; j < group; ++j) {
      const int64_t r = t * group + j;
      const float* qh = q + t * stride + (g * group + j) * hd;  // float keys: unrotated query
      float* w = sc.row.data();
      FloatScores(qh, sc.float_keys.data(), n_float, hd, scale, w);
      std::copy_n(sc.scores.data() + r * m + (qa - u0), pos - qa + 1, w + n_float);
      SoftmaxInPlace(w, n);
      AddFloatValues(w, sc.float_values.data(), n_float, hd, sc.out_block.data() + r * hd);
      std::copy_n(w + n_float, pos - qa + 1, sc.weights.data() + r * m + (qa - u0));
    }
  }
  if (m > 0) {
    Kv4AccumulateValues(sc.weights.data(), m, static_cast<int>(rows), hd, sc.values,
                        sc.out_block.data());
  }
  for (int32_t t = 0; t < count; ++t) {
    for (int j = 0; j < group; ++j) {
      std::copy_n(sc.out_block.data() + (t * group + j) * hd, hd,
                  out + t * stride + (g * group + j) * hd);
    }
  }
}

QuantizedKvCache::QuantizedKvCache(const ModelConfig& config, const KvFormat& format,
                                   int32_t capacity)
    : capacity_(capacity),
      store_(config, format, 1, std::max(capacity, 1)),
      seq_(config, store_, {PageRef{0, 0}}, AttentionWindow::Dense()) {}

absl::Status QuantizedKvCache::CheckWritable(int64_t pos) const {
  if (pos < 0 || pos >= capacity_) {
    return absl::OutOfRangeError(
        absl::StrCat("position ", pos, " is outside the KV cache [0, ", capacity_, ")"));
  }
  return absl::OkStatus();
}

}  // namespace accllm
