// Next-token selection: greedy, temperature, top-k, top-p, with a seeded RNG so
// a (seed, logits) sequence always gives the same tokens.
#ifndef ACCLLM_WORKERS_BACKEND_SAMPLER_H_
#define ACCLLM_WORKERS_BACKEND_SAMPLER_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"  // absl::Status

namespace accllm {

struct SamplingParams {
  float temperature = 1.0f;  // 0: greedy (argmax)
  int32_t top_k = 0;         // 0: no limit
  float top_p = 1.0f;        // nucleus mass in (0, 1]
  uint64_t seed = 0;
};

// Ranges: temperature in [0, 100], top_k >= 0, top_p in (0, 1]; errors name the field.
absl::Status ValidateSamplingParams(const SamplingParams& params);

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);

  // Picks a token id from raw logits (not modified).
  int32_t Sample(std::span<const float> logits);

  // A uniform float in [0, 1) from the sampler's stream (splitmix64: portable).
  float NextUniform();

 private:
  SamplingParams params_;
  uint64_t state_;
  std::vector<int32_t> order_;  // scratch: candidate ids
  std::vector<float> probs_;    // scratch
};

int32_t Argmax(std::span<const float> logits);  // lowest id among ties

}  // namespace accllm

#endif  // ACCLLM_WORKERS_BACKEND_SAMPLER_H_
