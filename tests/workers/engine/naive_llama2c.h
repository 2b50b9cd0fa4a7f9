// An independent second implementation for the tests: llama2.c's run.c forward
// pass, straight from the checkpoint's own layout (interleaved RoPE pairs, float
// angles), with none of the engine's code. Agreement with it checks the import
// (q/k row permutation) and the engine together.
#ifndef ACCLLM_TESTS_WORKERS_ENGINE_NAIVE_LLAMA2C_H_
#define ACCLLM_TESTS_WORKERS_ENGINE_NAIVE_LLAMA2C_H_

#include <cmath>
#include <vector>

#include "model/llama2c_checkpoint.h"  // Llama2cCheckpoint

namespace accllm::testing {

class NaiveLlama2c {
 public:
  explicit NaiveLlama2c(const Llama2cCheckpoint& ck)
      : ck_(ck),
        c_(ck.config),
        key_cache_(size_t(c_.n_layers) * c_.max_seq_len * c_.kv_dim()),
        value_cache_(key_cache_.size()) {}

  // Logits after feeding `token` at `pos` (positions must come in order from 0).
  std::vector<float> Forward(int token, int pos) {
    const int dim = c_.dim, hd = c_.head_dim(), kv_dim = c_.kv_dim(), hidden = c_.hidden_dim;
    const int kv_mul = c_.n_heads / c_.n_kv_heads;
    std::vector<float> x(ck_.embedding.begin() + size_t(token) * dim,
                         ck_.embedding.begin() + size_t(token + 1) * dim);
    std::vector<float> xb(dim), q(dim), k(kv_dim), v(kv_dim), att(pos + 1), xb2(dim);
    std::vector<float> hb(hidden), hb2(hidden);
    for (int l = 0; l < c_.n_layers; ++l) {
      rmsnorm(xb.data(), x.data(), &ck_.rms_att[size_t(l) * dim], dim);
      matmul(q.data(), xb.data(), &ck_.wq[size_t(l) * dim * dim], dim, dim);
      matmul(k.data(), xb.data(), &ck_.wk[size_t(l) * kv_dim * dim], dim, kv_dim);
      matmul(v.data(), xb.data(), &ck_.wv[size_t(l) * kv_dim * dim], dim, kv_dim);
      for (int i = 0; i < dim; i += 2) {  // run.c: RoPE on adjacent pairs
        const int head_dim = i % hd;
        const float freq = 1.0f / powf(10000.0f, head_dim / (float)hd);
        const float val = pos * freq, fcr = cosf(val), fci = sinf(val);
        const int rotn = i < kv_dim ? 2 : 1;
        for (int r = 0; r < rotn; ++r) {
          float* vec = r == 0 ? q.data() : k.data();
          const float v0 = vec[i], v1 = vec[i + 1];
          vec[i] = v0 * fcr - v1 * fci;
          vec[i + 1] = v0 * fci + v1 * fcr;
        }
      }
      const size_t loff = size_t(l) * c_.max_seq_len * kv_dim;
      std::copy(k.begin(), k.end(), key_cache_.begin() + loff + size_t(pos) * kv_dim);
      std::copy(v.begin(), v.end(), value_cache_.begin() + loff + size_t(pos) * kv_dim);
      for (int h = 0; h < c_.n_heads; ++h) {
        const float* qh = q.data() + h * hd;
        for (int t = 0; t <= pos; ++t) {
          const float* kt = key_cache_.data() + loff + size_t(t) * kv_dim + (h / kv_mul) * hd;
          float score = 0.0f;
          for (int i = 0; i < hd; ++i) score += qh[i] * kt[i];
          att[t] = score / sqrtf(hd);
        }
        softmax(att.data(), pos + 1);
        float* out = xb.data() + h * hd;
        std::fill(out, out + hd, 0.0f);
        for (int t = 0; t <= pos; ++t) {
          const float* vt = value_cache_.data() + loff + size_t(t) * kv_dim + (h / kv_mul) * hd;
          for (int i = 0; i < hd; ++i) out[i] += att[t] * vt[i];
        }
      }
      matmul(xb2.data(), xb.data(), &ck_.wo[size_t(l) * dim * dim], dim, dim);
      for (int i = 0; i < dim; ++i) x[i] += xb2[i];
      rmsnorm(xb.data(), x.data(), &ck_.rms_ffn[size_t(l) * dim], dim);
      matmul(hb.data(), xb.data(), &ck_.w1[size_t(l) * dim * hidden], dim, hidden);
      matmul(hb2.data(), xb.data(), &ck_.w3[size_t(l) * dim * hidden], dim, hidden);
      for (int i = 0; i < hidden; ++i) {
        float val = hb[i];
        val *= 1.0f / (1.0f + expf(-val));
        hb[i] = val * hb2[i];
      }
      matmul(xb.data(), hb.data(), &ck_.w2[size_t(l) * dim * hidden], hidden, dim);
      for (int i = 0; i < dim; ++i) x[i] += xb[i];
    }
    rmsnorm(x.data(), x.data(), ck_.rms_final.data(), dim);
    std::vector<float> logits(c_.vocab_size);
    matmul(logits.data(), x.data(), ck_.classifier.data(), dim, c_.vocab_size);
    return logits;
  }

 private:
  static void rmsnorm(float* o, const float* x, const float* w, int n) {
    float ss = 0.0f;
    for (int j = 0; j < n; ++j) ss += x[j] * x[j];
    ss = 1.0f / sqrtf(ss / n + 1e-5f);
    for (int j = 0; j < n; ++j) o[j] = w[j] * (ss * x[j]);
  }
  static void softmax(float* x, int n) {
    float max = x[0];
    for (int i = 1; i < n; ++i) max = std::max(max, x[i]);
    float sum = 0.0f;
    for (int i = 0; i < n; ++i) sum += (x[i] = expf(x[i] - max));
    for (int i = 0; i < n; ++i) x[i] /= sum;
  }
  static void matmul(float* xout, const float* x, const float* w, int n, int d) {
    for (int i = 0; i < d; ++i) {
      float val = 0.0f;
      for (int j = 0; j < n; ++j) val += w[size_t(i) * n + j] * x[j];
      xout[i] = val;
    }
  }

  const Llama2cCheckpoint& ck_;
  ModelConfig c_;
  std::vector<float> key_cache_, value_cache_;
};

}  // namespace accllm::testing

#endif  // ACCLLM_TESTS_WORKERS_ENGINE_NAIVE_LLAMA2C_H_
