#include "quant/rotation.h"

#include <algorithm>  // std::fill, std::min
#include <cmath>      // std::cos, std::fabs, std::log, std::sin, std::sqrt

#include "absl/strings/str_cat.h"  // absl::StrCat
#include "quant/dense_kernels.h"   // GemmAccumulate, DotProduct, Axpy
#include "quant/hadamard.h"        // HadamardTransform

namespace accllm {
namespace {

// splitmix64: a tiny, fully specified generator (std:: distributions differ across libraries).
uint64_t SplitMix(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double Uniform01(uint64_t& state) {  // (0, 1)
  return (static_cast<double>(SplitMix(state) >> 11) + 0.5) * 0x1.0p-53;
}

// The rows of m [n, n] orthonormalized in order (the Q of m^T's QR, up to rounding): block
// Gram-Schmidt run twice (BCGS2) on panels of rows, so the projections against the finished rows
// are GEMMs; modified Gram-Schmidt inside a panel, also twice.
void OrthonormalizeRows(std::vector<double>& m, int64_t n) {
  constexpr int64_t kPanel = 32;
  std::vector<double> pt, coef, proj;
  for (int64_t i0 = 0; i0 < n; i0 += kPanel) {
    const int64_t b = std::min(kPanel, n - i0);
    double* panel = m.data() + i0 * n;
    for (int pass = 0; pass < 2; ++pass) {
      if (i0 > 0) {
        // coef^T [i0, b] = Q_done [i0, n] · panel^T [n, b]; panel -= coef [b, i0] · Q_done.
        pt.assign(static_cast<size_t>(n * b), 0.0);
        for (int64_t r = 0; r < b; ++r) {
          for (int64_t j = 0; j < n; ++j) pt[j * b + r] = panel[r * n + j];
        }
        proj.assign(static_cast<size_t>(i0 * b), 0.0);
        GemmAccumulate(i0, b, n, m.data(), n, pt.data(), b, proj.data(), b);
        coef.assign(static_cast<size_t>(b * i0), 0.0);
        for (int64_t k = 0; k < i0; ++k) {
          for (int64_t r = 0; r < b; ++r) coef[r * i0 + k] = -proj[k * b + r];
        }
        GemmAccumulate(b, n, i0, coef.data(), i0, m.data(), n, panel, n);
      }
      for (int64_t r = 0; r < b; ++r) {
        double* ri = panel + r * n;
        for (int64_t k = 0; k < r; ++k) {
          const double* rk = panel + k * n;
          Axpy(-DotProduct(ri, rk, n), rk, ri, n);
        }
        const double inv = 1.0 / std::sqrt(DotProduct(ri, ri, n));
        for (int64_t j = 0; j < n; ++j) ri[j] *= inv;
      }
    }
  }
}

}  // namespace

Rotation Rotation::Hadamard(int64_t n, uint64_t seed) {
  Rotation r(Kind::kHadamard, n);
  r.signs_.assign(static_cast<size_t>(n), 1.0f);
  if (seed != 0) {
    uint64_t state = seed;
    for (float& s : r.signs_) s = (SplitMix(state) >> 63) ? -1.0f : 1.0f;
  }
  return r;
}

Rotation Rotation::RandomOrthogonal(int64_t n, uint64_t seed) {
  uint64_t state = seed;
  std::vector<double> m(static_cast<size_t>(n * n));
  for (size_t i = 0; i < m.size(); i += 2) {  // Box-Muller, two normals per draw
    const double a = std::sqrt(-2.0 * std::log(Uniform01(state)));
    const double t = 2.0 * 3.14159265358979323846 * Uniform01(state);
    m[i] = a * std::cos(t);
    if (i + 1 < m.size()) m[i + 1] = a * std::sin(t);
  }
  OrthonormalizeRows(m, n);
  Rotation r(Kind::kDense, n);
  r.matrix_.assign(m.begin(), m.end());
  return r;
}

Rotation Rotation::ForSize(int64_t n, uint64_t seed) {
  return IsPowerOfTwo(n) ? Hadamard(n, seed) : RandomOrthogonal(n, seed);
}

absl::StatusOr<Rotation> Rotation::FromMatrix(std::span<const float> m, int64_t n) {
  if (n <= 0 || m.size() != static_cast<size_t>(n * n)) {
    return absl::InvalidArgumentError(
        absl::StrCat("rotation matrix holds ", m.size(), " values, expected [", n, ", ", n, "]"));
  }
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t k = 0; k <= i; ++k) {
      double dot = 0.0;
      for (int64_t j = 0; j < n; ++j) dot += static_cast<double>(m[i * n + j]) * m[k * n + j];
      if (std::fabs(dot - (i == k ? 1.0 : 0.0)) > 1e-4) {
        return absl::InvalidArgumentError(absl::StrCat("rotation matrix is not orthogonal: rows ",
                                                       i, " and ", k, " have dot product ", dot));
      }
    }
  }
  Rotation r(Kind::kDense, n);
  r.matrix_.assign(m.begin(), m.end());
  return r;
}

void Rotation::Apply(std::span<float> x) const {
  if (kind_ == Kind::kHadamard) {
    for (size_t i = 0; i < x.size(); ++i) x[i] *= signs_[i];
    HadamardTransform(x);
    return;
  }
  std::vector<float> in(x.begin(), x.end());
  for (int64_t i = 0; i < n_; ++i) {
    const float* row = matrix_.data() + i * n_;
    double s = 0.0;
    for (int64_t j = 0; j < n_; ++j) s += static_cast<double>(row[j]) * in[j];
    x[static_cast<size_t>(i)] = static_cast<float>(s);
  }
}

void Rotation::ApplyTranspose(std::span<float> x) const {
  if (kind_ == Kind::kHadamard) {
    HadamardTransform(x);  // H is symmetric: Q^T = D H
    for (size_t i = 0; i < x.size(); ++i) x[i] *= signs_[i];
    return;
  }
  std::vector<double> out(static_cast<size_t>(n_), 0.0);
  for (int64_t i = 0; i < n_; ++i) {
    const float* row = matrix_.data() + i * n_;
    for (int64_t j = 0; j < n_; ++j)
      out[static_cast<size_t>(j)] += static_cast<double>(row[j]) * x[i];
  }
  for (int64_t j = 0; j < n_; ++j) x[static_cast<size_t>(j)] = static_cast<float>(out[j]);
}

void Rotation::ApplyToRows(std::span<float> x) const {
  for (size_t off = 0; off + static_cast<size_t>(n_) <= x.size(); off += static_cast<size_t>(n_)) {
    Apply(x.subspan(off, static_cast<size_t>(n_)));
  }
}

std::vector<float> Rotation::Matrix() const {
  if (kind_ == Kind::kDense) return matrix_;
  std::vector<float> m(static_cast<size_t>(n_ * n_));
  std::vector<float> e(static_cast<size_t>(n_));
  for (int64_t j = 0; j < n_; ++j) {  // column j = Q e_j
    std::fill(e.begin(), e.end(), 0.0f);
    e[static_cast<size_t>(j)] = 1.0f;
    Apply(e);
    for (int64_t i = 0; i < n_; ++i) m[static_cast<size_t>(i * n_ + j)] = e[static_cast<size_t>(i)];
  }
  return m;
}

void RotateWeightInputs(const Rotation& q, std::span<float> w) {
  // Row r of W Q^T is (Q w_r)^T.
  if (q.kind() == Rotation::Kind::kHadamard) {
    q.ApplyToRows(w);
    return;
  }
  // Dense: W Q^T as one GEMM in double (what Apply computes row by row, in the same order).
  const int64_t n = q.size();
  const int64_t rows = static_cast<int64_t>(w.size()) / n;
  const std::vector<float> m = q.Matrix();
  std::vector<double> qt(m.size());
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) qt[j * n + i] = m[i * n + j];
  }
  std::vector<double> wd(w.begin(), w.begin() + rows * n), out(wd.size(), 0.0);
  GemmAccumulate(rows, n, n, wd.data(), n, qt.data(), n, out.data(), n);
  for (size_t i = 0; i < out.size(); ++i) w[i] = static_cast<float>(out[i]);
}

void RotateWeightOutputs(const Rotation& q, std::span<float> w) {
  // Column c of Q W is Q w_c.
  const int64_t n = q.size();
  const int64_t cols = static_cast<int64_t>(w.size()) / n;
  std::vector<float> col(static_cast<size_t>(n));
  for (int64_t c = 0; c < cols; ++c) {
    for (int64_t i = 0; i < n; ++i)
      col[static_cast<size_t>(i)] = w[static_cast<size_t>(i * cols + c)];
    q.Apply(col);
    for (int64_t i = 0; i < n; ++i)
      w[static_cast<size_t>(i * cols + c)] = col[static_cast<size_t>(i)];
  }
}

}  // namespace accllm
