// Random data and small float helpers shared by the quant tests.
#ifndef ACCLLM_TESTS_QUANT_QUANT_TEST_UTIL_H_
#define ACCLLM_TESTS_QUANT_QUANT_TEST_UTIL_H_

#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "quant/weight_format.h"  // WeightFormat

namespace accllm::testing {

inline std::vector<float> RandomNormal(size_t n, uint32_t seed, float stddev = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, stddev);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// y [rows] = w [rows, cols] x [cols], in double.
inline std::vector<float> MatVec(std::span<const float> w, std::span<const float> x, int64_t rows,
                                 int64_t cols) {
  std::vector<float> y(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    double s = 0.0;
    for (int64_t c = 0; c < cols; ++c) s += static_cast<double>(w[r * cols + c]) * x[c];
    y[static_cast<size_t>(r)] = static_cast<float>(s);
  }
  return y;
}

inline double RelativeL2(std::span<const float> a, std::span<const float> b) {
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    den += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(num / (den > 0 ? den : 1.0));
}

inline double MaxAbsDiff(std::span<const float> a, std::span<const float> b) {
  double m = 0.0;
  for (size_t i = 0; i < a.size(); ++i)
    m = std::max(m, std::fabs(static_cast<double>(a[i]) - b[i]));
  return m;
}

// Every format the layer container supports.
inline std::vector<WeightFormat> AllFormats(int group) {
  std::vector<WeightFormat> out;
  for (Sparsity sp : {Sparsity::kDense, Sparsity::k2of4}) {
    for (int bits : {2, 3, 4, 8}) {
      WeightFormat f;
      f.bits = bits;
      f.group = group;
      f.sparsity = sp;
      out.push_back(f);
      if (bits <= 4) {
        f.scheme = WeightScheme::kPow2;
        out.push_back(f);
      }
    }
  }
  return out;
}

}  // namespace accllm::testing

#endif  // ACCLLM_TESTS_QUANT_QUANT_TEST_UTIL_H_
