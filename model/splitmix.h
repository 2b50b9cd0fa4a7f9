// splitmix64: a tiny, fast, portable random stream (the same numbers on every
// platform, unlike std:: distributions), used for synthetic weights and sampling.
#ifndef ACCLLM_MODEL_SPLITMIX_H_
#define ACCLLM_MODEL_SPLITMIX_H_

#include <cstdint>

namespace accllm {

inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// A uniform float in [0, 1) from the stream's top 24 bits.
inline float SplitMixUniform(uint64_t& state) {
  return static_cast<float>(SplitMix64(state) >> 40) * 0x1.0p-24f;
}

}  // namespace accllm

#endif  // ACCLLM_MODEL_SPLITMIX_H_
