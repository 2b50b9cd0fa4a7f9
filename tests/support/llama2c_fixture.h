// Random llama2.c checkpoints for tests: any shape, shared or separate classifier.
#ifndef ACCLLM_TESTS_SUPPORT_LLAMA2C_FIXTURE_H_
#define ACCLLM_TESTS_SUPPORT_LLAMA2C_FIXTURE_H_

#include <cstdint>
#include <filesystem>

namespace accllm::testing {

struct Llama2cShape {
  int32_t dim = 32;
  int32_t hidden_dim = 80;
  int32_t n_layers = 2;
  int32_t n_heads = 4;
  int32_t n_kv_heads = 2;
  int32_t vocab_size = 64;
  int32_t seq_len = 64;
  bool shared_classifier = true;
};

// Writes a valid checkpoint with weights ~ N-ish(0, scale) and rms weights near 1.
void WriteRandomLlama2c(const std::filesystem::path& path, const Llama2cShape& shape,
                        uint64_t seed, float scale = 0.15f);

}  // namespace accllm::testing

#endif  // ACCLLM_TESTS_SUPPORT_LLAMA2C_FIXTURE_H_
