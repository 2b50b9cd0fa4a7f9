#include "workers/backend/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"  // absl::StrCat
#include "model/splitmix.h"        // SplitMixUniform

namespace accllm {

absl::Status ValidateSamplingParams(const SamplingParams& p) {
  if (!(p.temperature >= 0.0f && p.temperature <= 100.0f)) {
    return absl::InvalidArgumentError(
        absl::StrCat("temperature must be in [0, 100], got ", p.temperature));
  }
  if (p.top_k < 0) return absl::InvalidArgumentError(absl::StrCat("top_k must be >= 0, got ", p.top_k));
  if (!(p.top_p > 0.0f && p.top_p <= 1.0f)) {
    return absl::InvalidArgumentError(absl::StrCat("top_p must be in (0, 1], got ", p.top_p));
  }
  return absl::OkStatus();
}

int32_t Argmax(std::span<const float> logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

Sampler::Sampler(const SamplingParams& params) : params_(params), state_(params.seed) {}

float Sampler::NextUniform() { return SplitMixUniform(state_); }

int32_t Sampler::Sample(std::span<const float> logits) {
  if (params_.temperature == 0.0f) return Argmax(logits);
  const int32_t n = static_cast<int32_t>(logits.size());
  order_.resize(n);
  std::iota(order_.begin(), order_.end(), 0);
  // Candidates sorted by logit (ties by id, so the order is deterministic).
  auto by_logit = [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  int32_t keep = n;
  if (params_.top_k > 0 && params_.top_k < n) {
    keep = params_.top_k;
    std::partial_sort(order_.begin(), order_.begin() + keep, order_.end(), by_logit);
  } else {
    std::sort(order_.begin(), order_.end(), by_logit);
  }
  probs_.resize(keep);
  const float max = logits[order_[0]];
  float sum = 0.0f;
  for (int32_t i = 0; i < keep; ++i) {
    probs_[i] = std::exp((logits[order_[i]] - max) / params_.temperature);
    sum += probs_[i];
  }
  for (float& p : probs_) p /= sum;
  if (params_.top_p < 1.0f) {  // smallest prefix whose mass reaches top_p
    float mass = 0.0f;
    int32_t cut = keep;
    for (int32_t i = 0; i < keep; ++i) {
      mass += probs_[i];
      if (mass >= params_.top_p) {
        cut = i + 1;
        break;
      }
    }
    keep = cut;
    sum = mass;
  } else {
    sum = 1.0f;
  }
  const float r = NextUniform() * sum;
  float cdf = 0.0f;
  for (int32_t i = 0; i < keep; ++i) {
    cdf += probs_[i];
    if (r < cdf) return order_[i];
  }
  return order_[keep - 1];  // rounding left r at the very top
}

}  // namespace accllm
