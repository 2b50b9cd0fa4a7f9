#include "quant/portable_exp.h"  // PortableSoftmaxInPlace (header-only, plain C++)
#include "workers/fpga/kernels/lambda_attention.h"

#include <cmath>    // std::sqrt, std::exp, std::fma
#include <cstring>  // std::memcpy

#include "workers/fpga/kernels/elementwise.h"    // RopeApply
#include "workers/fpga/kernels/fp16.h"           // HalfBitsToFloat
#include "workers/fpga/kernels/hls.h"            // ACCLLM_HLS
#include "workers/fpga/kernels/kernel_status.h"  // kErr*
#include "workers/fpga/kernels/kv_codec.h"       // HadamardTransformInPlace, KvCodeAt

namespace accllm::fpga {
namespace {

// Code of channel j in the split order (kv4_attention.cc's Unpack): j < half -> channel 2j
// (low nibble of byte j), j >= half -> channel 2(j - half) + 1 (high nibble of byte j - half).
inline float SplitCode(const uint8_t* codes, int32_t j, int32_t half) {
  return static_cast<float>(j < half ? (codes[j] & 0x0F) : (codes[j - half] >> 4));
}

// KV4 score (kv4_attention.cc's Scores for one query row): qs [hd] in split order.
float Kv4Score(const float* qs, float qsum, int32_t hd, const KvCodesRef& k, float scale) {
  const int32_t half = hd / 2;
  float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
  int32_t j = 0;
  for (; j + 4 <= hd; j += 4) {
    ACCLLM_HLS(PIPELINE II = 1)
    a0 = std::fma(SplitCode(k.codes, j, half), qs[j], a0);
    a1 = std::fma(SplitCode(k.codes, j + 1, half), qs[j + 1], a1);
    a2 = std::fma(SplitCode(k.codes, j + 2, half), qs[j + 2], a2);
    a3 = std::fma(SplitCode(k.codes, j + 3, half), qs[j + 3], a3);
  }
  for (; j < hd; ++j) a0 = std::fma(SplitCode(k.codes, j, half), qs[j], a0);
  const float dot = (a0 + a1) + (a2 + a3);
  const float ks = HalfBitsToFloat(k.scale), kz = HalfBitsToFloat(k.zero);
  return (ks * (dot - kz * qsum)) * scale;
}

// KV8 score: quant/kv_quant.cc's DotQuantizedKey times the softmax scale.
float Kv8Score(const float* q_rot, int32_t hd, const KvCodesRef& k, int32_t bits, float scale) {
  float dot = 0.0f, qsum = 0.0f;
  for (int32_t i = 0; i < hd; ++i) {
    ACCLLM_HLS(PIPELINE II = 1)
    dot += q_rot[i] * static_cast<float>(KvCodeAt(k.codes, i, bits));
    qsum += q_rot[i];
  }
  return HalfBitsToFloat(k.scale) * (dot - HalfBitsToFloat(k.zero) * qsum) * scale;
}

}  // namespace

AttendRange RangeOf(const AttentionRule& rule, int32_t sink_tokens, int64_t pos) {
  AttendRange r;
  r.n_sinks = rule.SinkCount(pos);
  const int64_t window_start = rule.WindowStart(pos);
  r.ws = window_start < pos + 1 ? window_start : pos + 1;
  const int64_t first_quantized = window_start > sink_tokens ? window_start : sink_tokens;
  r.qa = first_quantized < pos + 1 ? first_quantized : pos + 1;
  return r;
}

int32_t CheckAttendPages(const KvPoolView& pool, const SequenceView& seq, int64_t pos) {
  const int32_t P = pool.page_size;
  auto check = [&](int64_t p) -> int32_t {
    const int32_t page = LookupPage(seq.pages, seq.page_count, p, P);
    if (page < 0) return kErrPageNotCovered;
    if (page >= pool.num_pages) return kErrPageOutOfPool;
    return kKernelOk;
  };
  const AttendRange r = RangeOf(seq.rule, pool.sink_tokens, pos);
  if (r.total(pos) > kMaxAttendPositions) return kErrContextTooLong;
  // One position per page is enough: a page is in the table or not.
  for (int64_t p = 0; p < r.n_sinks; p = (p / P + 1) * P) {
    if (int32_t s = check(p); s != kKernelOk) return s;
  }
  for (int64_t p = r.ws; p <= pos; p = (p / P + 1) * P) {
    if (int32_t s = check(p); s != kKernelOk) return s;
  }
  return check(pos);
}

int32_t LambdaAttend(const DeviceMemory& mem, const KvPoolView& pool, int32_t layer,
                     const SequenceView& seq, int64_t pos, int32_t n_heads, const float* q,
                     const float* sink_rope, float* out, AttendScratch* sc) {
  if (int32_t s = CheckAttendPages(pool, seq, pos); s != kKernelOk) return s;
  const int32_t hd = pool.head_dim, half = hd / 2, P = pool.page_size;
  const int32_t group = n_heads / pool.kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  const AttendRange r = RangeOf(seq.rule, pool.sink_tokens, pos);
  const int64_t n_float = r.n_sinks + (r.qa - r.ws);
  const int64_t nq = pos - r.qa + 1;
  const int64_t n = n_float + nq;
  sc->float_keys.resize(static_cast<size_t>(n_float * hd));
  sc->float_values.resize(static_cast<size_t>(n_float * hd));
  sc->weights.resize(static_cast<size_t>(n));
  sc->keys.resize(static_cast<size_t>(nq));
  sc->values.resize(static_cast<size_t>(nq));
  float q_rot[kMaxHeadDim], q_split[kMaxHeadDim], acc[kMaxHeadDim], vdeq[kMaxHeadDim];

  for (int32_t g = 0; g < pool.kv_heads; ++g) {
    // The float positions: Λ sinks (keys to their in-cache positions), then fp16 window.
    for (int64_t i = 0; i < n_float; ++i) {
      const int64_t p = i < r.n_sinks ? i : r.ws + (i - r.n_sinks);
      const int32_t page = LookupPage(seq.pages, seq.page_count, p, P);
      const int32_t slot = static_cast<int32_t>(p % P);
      const bool quantized = pool.QuantizedAt(p);
      float* k = sc->float_keys.data() + i * hd;
      float* v = sc->float_values.data() + i * hd;
      LoadKvVector(mem, pool, page, slot, layer, 0, g, quantized, k);
      if (quantized && pool.rotate_keys) HadamardTransformInPlace(k, hd);  // back to the model's frame
      if (i < r.n_sinks) RopeApply(k, 1, hd, sink_rope + i * hd);
      LoadKvVector(mem, pool, page, slot, layer, 1, g, quantized, v);
    }
    // The quantized window: codes read once for the whole GQA group.
    for (int64_t i = 0; i < nq; ++i) {
      const int64_t p = r.qa + i;
      const int32_t page = LookupPage(seq.pages, seq.page_count, p, P);
      const int32_t slot = static_cast<int32_t>(p % P);
      sc->keys[i] = ReadKvCodes(mem, pool, page, slot, layer, 0, g);
      sc->values[i] = ReadKvCodes(mem, pool, page, slot, layer, 1, g);
    }
    for (int32_t h = g * group; h < (g + 1) * group; ++h) {
      const float* qh = q + static_cast<int64_t>(h) * hd;
      float* w = sc->weights.data();
      for (int64_t i = 0; i < n_float; ++i) {  // FloatScores
        const float* k = sc->float_keys.data() + i * hd;
        float dot = 0.0f;
        for (int32_t d = 0; d < hd; ++d) {
          ACCLLM_HLS(PIPELINE II = 1)
          dot += qh[d] * k[d];
        }
        w[i] = dot * scale;
      }
      std::memcpy(q_rot, qh, static_cast<size_t>(hd) * sizeof(float));
      if (pool.rotate_keys) HadamardTransformInPlace(q_rot, hd);
      if (pool.bits == 4) {
        float qsum = 0.0f;
        for (int32_t d = 0; d < hd; ++d) qsum += q_rot[d];
        for (int32_t j = 0; j < half; ++j) {
          q_split[j] = q_rot[2 * j];
          q_split[half + j] = q_rot[2 * j + 1];
        }
        for (int64_t i = 0; i < nq; ++i) {
          w[n_float + i] = Kv4Score(q_split, qsum, hd, sc->keys[i], scale);
        }
      } else {
        for (int64_t i = 0; i < nq; ++i) {
          w[n_float + i] = Kv8Score(q_rot, hd, sc->keys[i], pool.bits, scale);
        }
      }
      // Softmax: KV4's is the portable one every backend computes bit for bit; KV8's is the
      // CPU engine's scalar loop (libm's exp, a running sum, a division).
      if (pool.bits == 4) {
        PortableSoftmaxInPlace(w, n);
      } else {
        float max = -INFINITY, sum = 0.0f;
        for (int64_t i = 0; i < n; ++i) max = w[i] > max ? w[i] : max;
        for (int64_t i = 0; i < n; ++i) sum += (w[i] = std::exp(w[i] - max));
        for (int64_t i = 0; i < n; ++i) w[i] /= sum;
      }
      float* o = out + static_cast<int64_t>(h) * hd;
      for (int32_t d = 0; d < hd; ++d) o[d] = 0.0f;
      for (int64_t i = 0; i < n_float; ++i) {  // AddFloatValues
        const float* v = sc->float_values.data() + i * hd;
        for (int32_t d = 0; d < hd; ++d) {
          ACCLLM_HLS(PIPELINE II = 1)
          o[d] += w[i] * v[d];
        }
      }
      if (nq == 0) continue;
      if (pool.bits == 4) {  // kv4_attention.cc's AccumulateValues, split order
        for (int32_t d = 0; d < hd; ++d) acc[d] = 0.0f;
        for (int64_t i = 0; i < nq; ++i) {
          const KvCodesRef& v = sc->values[i];
          const float vs = HalfBitsToFloat(v.scale), vz = HalfBitsToFloat(v.zero);
          const float wi = w[n_float + i];
          for (int32_t d = 0; d < hd; ++d) {
            ACCLLM_HLS(PIPELINE II = 1)
            vdeq[d] = (SplitCode(v.codes, d, half) - vz) * vs;
            acc[d] = std::fma(wi, vdeq[d], acc[d]);
          }
        }
        for (int32_t j = 0; j < half; ++j) {
          o[2 * j] += acc[j];
          o[2 * j + 1] += acc[half + j];
        }
      } else {  // AccumulateQuantizedValue
        for (int64_t i = 0; i < nq; ++i) {
          const KvCodesRef& v = sc->values[i];
          const float s = w[n_float + i] * HalfBitsToFloat(v.scale);
          const float z = HalfBitsToFloat(v.zero);
          for (int32_t d = 0; d < hd; ++d) {
            ACCLLM_HLS(PIPELINE II = 1)
            o[d] += s * (static_cast<float>(KvCodeAt(v.codes, d, pool.bits)) - z);
          }
        }
      }
    }
  }
  return kKernelOk;
}

}  // namespace accllm::fpga
