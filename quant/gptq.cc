#include "quant/gptq.h"

#include <algorithm>  // std::max, std::min
#include <cmath>      // std::fabs, std::sqrt

#include "absl/strings/str_cat.h"  // absl::StrCat
#include "quant/dense_kernels.h"   // GemmAccumulate
#include "quant/hessian.h"         // UpperCholeskyOfInverse
#include "quant/rtn.h"             // CheckWeights
#include "quant/sparse24.h"        // Select24, WandaMask24

namespace accllm {
namespace {

// Damped copy of H with dead columns fixed (H_jj = 1, weight zeroed by the caller).
std::vector<double> DampedHessian(std::span<const double> h, int64_t n, double damp_percent,
                                  std::vector<uint8_t>* dead) {
  std::vector<double> out(h.begin(), h.end());
  dead->assign(static_cast<size_t>(n), 0);
  double mean_diag = 0.0;
  for (int64_t j = 0; j < n; ++j) {
    double& d = out[static_cast<size_t>(j * n + j)];
    if (d == 0.0) {
      d = 1.0;
      (*dead)[static_cast<size_t>(j)] = 1;
    }
    mean_diag += d;
  }
  mean_diag /= static_cast<double>(n);
  for (int64_t j = 0; j < n; ++j) out[static_cast<size_t>(j * n + j)] += damp_percent * mean_diag;
  return out;
}

}  // namespace

absl::StatusOr<GptqFactor> FactorHessian(std::span<const double> hessian, int64_t cols,
                                         double damp_percent) {
  if (hessian.size() != static_cast<size_t>(cols * cols)) {
    return absl::InvalidArgumentError(absl::StrCat("hessian holds ", hessian.size(),
                                                   " values, expected [", cols, ", ", cols, "]"));
  }
  if (!(damp_percent >= 0.0)) return absl::InvalidArgumentError("damp_percent must be >= 0");
  GptqFactor f;
  f.cols = cols;
  std::vector<double> h = DampedHessian(hessian, cols, damp_percent, &f.dead);
  // A nearly singular H (few samples) fails the factorization: retry with more damping.
  absl::StatusOr<std::vector<double>> u_or = UpperCholeskyOfInverse(h, cols);
  for (double extra = 0.1; !u_or.ok() && extra <= 10.0; extra *= 10.0) {
    h = DampedHessian(hessian, cols, damp_percent + extra, &f.dead);
    u_or = UpperCholeskyOfInverse(h, cols);
  }
  if (!u_or.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "GPTQ: Hessian could not be factored even with damping: ", u_or.status().message()));
  }
  f.u = *std::move(u_or);
  f.diag.resize(static_cast<size_t>(cols));
  f.norms.resize(static_cast<size_t>(cols));
  for (int64_t c = 0; c < cols; ++c) {
    f.diag[static_cast<size_t>(c)] = h[static_cast<size_t>(c * cols + c)];
    f.norms[static_cast<size_t>(c)] =
        static_cast<float>(std::sqrt(std::max(0.0, hessian[static_cast<size_t>(c * cols + c)])));
  }
  return f;
}

absl::StatusOr<UnpackedLinear> QuantizeGptqUnpacked(std::span<const float> w_in, int64_t rows,
                                                    int64_t cols, const WeightFormat& format,
                                                    const GptqFactor& factor,
                                                    const GptqOptions& options) {
  if (absl::Status s = CheckWeights(w_in, rows, cols, format); !s.ok()) return s;
  if (factor.cols != cols || factor.u.size() != static_cast<size_t>(cols * cols)) {
    return absl::InvalidArgumentError(
        absl::StrCat("GPTQ factor is for ", factor.cols, " inputs, the layer has ", cols));
  }
  if (options.block_size < 1) return absl::InvalidArgumentError("block_size must be >= 1");
  const bool sparse = format.sparsity == Sparsity::k2of4;
  const int group = format.group;
  const int bits = format.bits;
  const WeightScheme scheme = format.scheme;

  const std::vector<double>& u = factor.u;  // [cols, cols] upper, H^-1 = U^T U
  const std::vector<uint8_t>& dead = factor.dead;

  std::vector<float> w(w_in.begin(), w_in.end());  // [rows, cols], compensated as we go
  for (int64_t c = 0; c < cols; ++c) {
    if (!dead[static_cast<size_t>(c)]) continue;
    for (int64_t r = 0; r < rows; ++r) w[static_cast<size_t>(r * cols + c)] = 0.0f;
  }

  UnpackedLinear out;
  out.format = format;
  out.rows = rows;
  out.cols = cols;
  out.codes.assign(w.size(), 0);
  const int64_t groups = (cols + group - 1) / group;
  out.scales.assign(static_cast<size_t>(rows * groups), 0.0f);
  if (scheme == WeightScheme::kUniform) out.zeros.assign(out.scales.size(), 0.0f);
  if (sparse) {
    if (options.mask_selection == MaskSelection::kWanda) {
      out.keep = WandaMask24(w, rows, cols, factor.norms);
    } else {
      out.keep.assign(w.size(), 0);
    }
  }

  // Lazy blocks hold whole groups, so a group's parameters always see its compensated weights.
  const int64_t block = group <= options.block_size
                            ? static_cast<int64_t>(options.block_size / group) * group
                            : group;
  std::vector<double> err(static_cast<size_t>(rows * block), 0.0);  // [rows, block]
  std::vector<double> update;                                       // [rows, cols - b1]
  std::vector<float> importance(static_cast<size_t>(group));
  std::vector<uint8_t> preview(static_cast<size_t>(group));
  std::vector<GroupParams> params(static_cast<size_t>(rows));

  for (int64_t b0 = 0; b0 < cols; b0 += block) {
    const int64_t b1 = std::min(b0 + block, cols);
    for (int64_t c = b0; c < b1; ++c) {
      if (c % group == 0) {
        const int64_t g = c / group;
        const int64_t len = std::min<int64_t>(group, cols - c);
        for (int64_t i = 0; i < len; ++i) {
          importance[static_cast<size_t>(i)] = static_cast<float>(factor.diag[c + i]);
        }
        for (int64_t r = 0; r < rows; ++r) {
          const std::span<const float> gw(w.data() + r * cols + c, static_cast<size_t>(len));
          std::span<const uint8_t> gkeep;
          if (sparse) {
            // Which weights survive is only settled block by block; preview it with the same
            // rule to choose the range.
            if (options.mask_selection == MaskSelection::kWanda) {
              gkeep = std::span<const uint8_t>(out.keep).subspan(static_cast<size_t>(r * cols + c),
                                                                 static_cast<size_t>(len));
            } else {
              for (int64_t i = 0; i < len; i += 4) {
                float s[4];
                for (int k = 0; k < 4; ++k) {
                  const double d = u[(c + i + k) * cols + c + i + k];
                  s[k] = static_cast<float>(gw[i + k] * gw[i + k] / (d * d));
                }
                const uint8_t m = Select24(s);
                for (int k = 0; k < 4; ++k) preview[static_cast<size_t>(i + k)] = (m >> k) & 1;
              }
              gkeep = std::span<const uint8_t>(preview).first(static_cast<size_t>(len));
            }
          }
          const GroupParams p = ChooseGroupParams(
              gw, gkeep, std::span<const float>(importance).first(static_cast<size_t>(len)), scheme,
              bits, options.clip_ratios, format.zero_point);
          params[static_cast<size_t>(r)] = p;
          out.scales[static_cast<size_t>(r * groups + g)] = p.scale;
          if (!out.zeros.empty()) out.zeros[static_cast<size_t>(r * groups + g)] = p.zero;
        }
      }
      if (sparse && options.mask_selection == MaskSelection::kSparseGpt && c % 4 == 0) {
        for (int64_t r = 0; r < rows; ++r) {
          float s[4];
          for (int k = 0; k < 4; ++k) {
            const double d = u[(c + k) * cols + c + k];
            const double v = w[static_cast<size_t>(r * cols + c + k)];
            s[k] = static_cast<float>(v * v / (d * d));
          }
          const uint8_t m = Select24(s);
          for (int k = 0; k < 4; ++k)
            out.keep[static_cast<size_t>(r * cols + c + k)] = (m >> k) & 1;
        }
      }
      const double d = u[static_cast<size_t>(c * cols + c)];
      const double* urow = u.data() + c * cols;
      for (int64_t r = 0; r < rows; ++r) {
        const size_t i = static_cast<size_t>(r * cols + c);
        const float wv = w[i];
        float q = 0.0f;
        if (!sparse || out.keep[i]) {
          const GroupParams& p = params[static_cast<size_t>(r)];
          out.codes[i] = QuantizeToCode(wv, p, scheme, bits);
          q = DecodeCode(out.codes[i], p, scheme, bits);
        }
        const double e = (static_cast<double>(wv) - q) / d;
        err[static_cast<size_t>(r * block + (c - b0))] = e;
        float* wr = w.data() + r * cols;
        for (int64_t j = c + 1; j < b1; ++j) wr[j] -= static_cast<float>(e * urow[j]);
      }
    }
    // Lazy update of the columns after the block: W[:, b1:] -= Err · U[b0:b1, b1:], one GEMM.
    const int64_t rest = cols - b1;
    if (rest > 0) {
      update.assign(static_cast<size_t>(rows * rest), 0.0);
      GemmAccumulate(rows, rest, b1 - b0, err.data(), block, u.data() + b0 * cols + b1, cols,
                     update.data(), rest);
      for (int64_t r = 0; r < rows; ++r) {
        float* wr = w.data() + r * cols + b1;
        const double* ur = update.data() + r * rest;
        for (int64_t j = 0; j < rest; ++j) wr[j] -= static_cast<float>(ur[j]);
      }
    }
  }
  return out;
}

absl::StatusOr<UnpackedLinear> QuantizeGptqUnpacked(std::span<const float> w, int64_t rows,
                                                    int64_t cols, const WeightFormat& format,
                                                    std::span<const double> hessian,
                                                    const GptqOptions& options) {
  if (absl::Status s = CheckWeights(w, rows, cols, format); !s.ok()) return s;
  if (options.block_size < 1) {
    return absl::InvalidArgumentError("damp_percent must be >= 0 and block_size >= 1");
  }
  absl::StatusOr<GptqFactor> f = FactorHessian(hessian, cols, options.damp_percent);
  if (!f.ok()) return f.status();
  return QuantizeGptqUnpacked(w, rows, cols, format, *f, options);
}

absl::StatusOr<QuantizedLinear> QuantizeGptq(std::span<const float> w, int64_t rows, int64_t cols,
                                             const WeightFormat& format,
                                             std::span<const double> hessian,
                                             const GptqOptions& options) {
  absl::StatusOr<UnpackedLinear> u = QuantizeGptqUnpacked(w, rows, cols, format, hessian, options);
  if (!u.ok()) return u.status();
  return PackLinear(*u);
}

}  // namespace accllm
