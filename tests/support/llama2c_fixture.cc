#include "tests/support/llama2c_fixture.h"

#include <fstream>
#include <random>
#include <vector>

namespace accllm::testing {

void WriteRandomLlama2c(const std::filesystem::path& path, const Llama2cShape& s, uint64_t seed,
                        float scale) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  const int32_t header[7] = {s.dim,        s.hidden_dim, s.n_layers, s.n_heads, s.n_kv_heads,
                             s.shared_classifier ? s.vocab_size : -s.vocab_size, s.seq_len};
  out.write(reinterpret_cast<const char*>(header), sizeof(header));
  auto write = [&](int64_t n, bool norm) {
    std::vector<float> v(n);
    for (float& x : v) x = norm ? 1.0f + normal(rng) : normal(rng);
    out.write(reinterpret_cast<const char*>(v.data()), n * sizeof(float));
  };
  const int64_t d = s.dim, h = s.hidden_dim, l = s.n_layers;
  const int64_t kv = s.n_kv_heads * (s.dim / s.n_heads);
  write(s.vocab_size * d, false);  // embedding
  write(l * d, true);              // rms_att
  write(l * d * d, false);         // wq
  write(l * kv * d, false);        // wk
  write(l * kv * d, false);        // wv
  write(l * d * d, false);         // wo
  write(l * d, true);              // rms_ffn
  write(l * h * d, false);         // w1
  write(l * d * h, false);         // w2
  write(l * h * d, false);         // w3
  write(d, true);                  // rms_final
  write(int64_t{s.seq_len} * (d / s.n_heads), false);  // freq_cis real + imag (legacy)
  if (!s.shared_classifier) write(s.vocab_size * d, false);
}

}  // namespace accllm::testing
