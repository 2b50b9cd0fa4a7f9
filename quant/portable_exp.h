// e^x with the same bits on every target, and the softmax built on it: the contract that the
// CPU's SIMD kernels (workers/cpu/portable_exp-inl.h, lane by lane) and the FPGA card's
// kernels (workers/fpga/kernels/) both implement, so a CPU worker and a card — and CPU
// workers on different SIMD targets — produce the same logits and therefore the same sampled
// tokens. Library exps (glibc's expf, Highway's Exp with fused multiply-adds where the target
// has them) differ by an ulp here and there, and an ulp in an attention weight moves an A8
// rounding downstream, which moves a sampled token.
//
// Cephes' expf: x = k ln2 + r with |r| <= ln2 / 2 (Cody-Waite, two-part ln2), a degree-5
// minimax polynomial for (e^r - 1 - r) / r^2, then 2^k from the exponent bits. Every step is
// one IEEE multiply or add (the build uses -ffp-contract=off), so SIMD lanes and the scalar
// form round identically. Within 2 ulp of e^x; x < kExpMin gives 0, x > kExpMax gives +inf
// (both just inside float's range, so 2^k is always a normal float).
// Plain C++ (no vendor or project headers): the HLS kernels include it too.
#ifndef ACCLLM_QUANT_PORTABLE_EXP_H_
#define ACCLLM_QUANT_PORTABLE_EXP_H_

#include <cstdint>
#include <cstring>
#include <limits>

namespace accllm {

inline constexpr float kExpMin = -87.33654f;  // e^x < FLT_MIN below: 0
inline constexpr float kExpMax = 88.37626f;   // 2^k would overflow above: +inf
inline constexpr float kExpLog2e = 1.44269504088896341f;
inline constexpr float kExpLn2Hi = 0.693359375f;  // few bits: k * hi is exact
inline constexpr float kExpLn2Lo = -2.12194440e-4f;
inline constexpr float kExpRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
inline constexpr float kExpP0 = 1.9875691500e-4f;
inline constexpr float kExpP1 = 1.3981999507e-3f;
inline constexpr float kExpP2 = 8.3334519073e-3f;
inline constexpr float kExpP3 = 4.1665795894e-2f;
inline constexpr float kExpP4 = 1.6666665459e-1f;
inline constexpr float kExpP5 = 5.0000001201e-1f;

inline float PortableExp(float x) {
  if (x != x) return x;  // NaN
  if (x < kExpMin) return 0.0f;
  if (x > kExpMax) return std::numeric_limits<float>::infinity();
  const float k = (x * kExpLog2e + kExpRound) - kExpRound;  // round to nearest even
  const float r = (x - k * kExpLn2Hi) - k * kExpLn2Lo;
  float p = kExpP0;
  p = p * r + kExpP1;
  p = p * r + kExpP2;
  p = p * r + kExpP3;
  p = p * r + kExpP4;
  p = p * r + kExpP5;
  const float y = (p * (r * r) + r) + 1.0f;
  const int32_t bits = (static_cast<int32_t>(k) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return y * scale;
}

// The sum of w [n] in a fixed order: eight running sums, element i into sum i % 8 in
// increasing i, then ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)). Eight independent
// chains keep an adder busy on any target; the order does not depend on the vector width.
inline float SumInEightLanes(const float* w, int64_t n) {
  float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) s[j] += w[i + j];
  }
  for (int j = 0; i < n; ++i, ++j) s[j] += w[i];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

// Softmax in place: max subtracted, PortableExp, SumInEightLanes, then each weight times
// 1 / sum. The scalar definition of the KV4 attention's softmax on every backend.
inline void PortableSoftmaxInPlace(float* w, int64_t n) {
  if (n <= 0) return;
  float max = w[0];
  for (int64_t i = 1; i < n; ++i) max = w[i] > max ? w[i] : max;
  for (int64_t i = 0; i < n; ++i) w[i] = PortableExp(w[i] - max);
  const float inv = 1.0f / SumInEightLanes(w, n);
  for (int64_t i = 0; i < n; ++i) w[i] *= inv;
}

// SwiGLU's elementwise half on one value: silu(g) * u = g / (1 + e^-g) * u.
inline float PortableSwiGlu(float g, float u) { return g / (1.0f + PortableExp(-g)) * u; }

}  // namespace accllm

#endif  // ACCLLM_QUANT_PORTABLE_EXP_H_
