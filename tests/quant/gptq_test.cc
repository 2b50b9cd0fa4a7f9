#include "quant/gptq.h"

#include <gmock/gmock.h>  // testing::HasSubstr
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "quant/hessian.h"                // HessianAccumulator, UpperCholeskyOfInverse
#include "quant/layer_error.h"            // RelativeOutputError
#include "quant/rtn.h"                    // QuantizeRtn
#include "quant/sparse24.h"               // Is24Pattern, WandaMask24, InputFeatureNorms
#include "tests/quant/quant_test_util.h"  // RandomNormal
#include "tests/support/status_matchers.h"

namespace accllm {
namespace {

using ::accllm::testing::RandomNormal;
using ::accllm::testing::StatusIs;
using ::testing::HasSubstr;

// Inputs with a strong low-rank component (LLM activations are highly correlated across
// channels) plus a few loud channels: where Hessian-aware rounding pays off.
std::vector<float> CorrelatedInputs(int64_t samples, int64_t cols, uint32_t seed) {
  const int64_t rank = 4;
  const std::vector<float> basis = RandomNormal(static_cast<size_t>(rank * cols), 1000);
  const std::vector<float> z = RandomNormal(static_cast<size_t>(samples * rank), seed, 3.0f);
  std::vector<float> x = RandomNormal(static_cast<size_t>(samples * cols), seed + 1, 0.3f);
  for (int64_t s = 0; s < samples; ++s) {
    for (int64_t k = 0; k < rank; ++k) {
      for (int64_t c = 0; c < cols; ++c) {
        x[static_cast<size_t>(s * cols + c)] +=
            z[static_cast<size_t>(s * rank + k)] * basis[static_cast<size_t>(k * cols + c)];
      }
    }
    x[static_cast<size_t>(s * cols + 3)] *= 4.0f;
  }
  return x;
}

struct Layer {
  int64_t rows = 24;
  int64_t cols = 96;  // ragged with group 64
  std::vector<float> w;
  std::vector<float> calib, held_out;
  int64_t n_calib = 384, n_held_out = 128;
  std::vector<double> hessian;

  Layer() {
    w = RandomNormal(static_cast<size_t>(rows * cols), 7, 0.1f);
    calib = CorrelatedInputs(n_calib, cols, 20);
    held_out = CorrelatedInputs(n_held_out, cols, 30);
    HessianAccumulator acc(cols);
    EXPECT_TRUE(acc.Add(calib, n_calib).ok());
    hessian = acc.Hessian();
  }

  double Error(const QuantizedLinear& q) const {
    absl::StatusOr<double> e =
        RelativeOutputError(w, DequantizeLinear(q.view()), rows, cols, held_out, n_held_out);
    EXPECT_TRUE(e.ok()) << e.status();
    return e.value_or(1e9);
  }
};

TEST(HessianTest, UpperCholeskyOfInverseInvertsH) {
  const int64_t n = 12;
  HessianAccumulator acc(n);
  ASSERT_TRUE(acc.Add(RandomNormal(static_cast<size_t>(40 * n), 1), 40).ok());
  EXPECT_EQ(acc.samples(), 40);
  std::vector<double> h = acc.Hessian();
  absl::StatusOr<std::vector<double>> u = UpperCholeskyOfInverse(h, n);
  ASSERT_TRUE(u.ok()) << u.status();
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < i; ++j) EXPECT_EQ((*u)[i * n + j], 0.0);  // upper triangular
  }
  for (int64_t i = 0; i < n; ++i) {  // (U^T U) H = I
    for (int64_t j = 0; j < n; ++j) {
      double s = 0.0;
      for (int64_t k = 0; k < n; ++k) {
        double inv_ik = 0.0;
        for (int64_t m = 0; m < n; ++m) inv_ik += (*u)[m * n + i] * (*u)[m * n + k];
        s += inv_ik * h[k * n + j];
      }
      EXPECT_NEAR(s, i == j ? 1.0 : 0.0, 1e-8);
    }
  }
  std::vector<double> singular(static_cast<size_t>(n * n), 0.0);
  EXPECT_THAT(UpperCholeskyOfInverse(singular, n).status().message(),
              HasSubstr("not positive definite"));
  EXPECT_THAT(acc.Add(std::vector<float>(5), 1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("holds 5 values")));
}

// The factor as it was computed before the one-Cholesky form: L of a, L^-1, a^-1 = L^-T L^-1,
// then the Cholesky of a^-1 transposed. Kept here as the oracle.
std::vector<double> ReferenceUpperCholeskyOfInverse(std::vector<double> a, int64_t n) {
  auto chol = [n](std::vector<double>& m) {
    for (int64_t j = 0; j < n; ++j) {
      double d = m[j * n + j];
      for (int64_t k = 0; k < j; ++k) d -= m[j * n + k] * m[j * n + k];
      const double ljj = std::sqrt(d);
      m[j * n + j] = ljj;
      for (int64_t i = j + 1; i < n; ++i) {
        double s = m[i * n + j];
        for (int64_t k = 0; k < j; ++k) s -= m[i * n + k] * m[j * n + k];
        m[i * n + j] = s / ljj;
      }
      for (int64_t k = j + 1; k < n; ++k) m[j * n + k] = 0.0;
    }
  };
  chol(a);
  std::vector<double> linv(static_cast<size_t>(n * n), 0.0);
  for (int64_t j = 0; j < n; ++j) {
    linv[j * n + j] = 1.0 / a[j * n + j];
    for (int64_t i = j + 1; i < n; ++i) {
      double s = 0.0;
      for (int64_t k = j; k < i; ++k) s += a[i * n + k] * linv[k * n + j];
      linv[i * n + j] = -s / a[i * n + i];
    }
  }
  std::vector<double> inv(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j <= i; ++j) {
      double s = 0.0;
      for (int64_t k = i; k < n; ++k) s += linv[k * n + i] * linv[k * n + j];
      inv[i * n + j] = inv[j * n + i] = s;
    }
  }
  chol(inv);
  std::vector<double> upper(static_cast<size_t>(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j <= i; ++j) upper[j * n + i] = inv[i * n + j];
  }
  return upper;
}

TEST(HessianTest, OneCholeskyFactorEqualsTheExplicitInverseRoute) {
  for (int64_t n : {5, 40, 150}) {
    HessianAccumulator acc(n);
    ASSERT_TRUE(acc.Add(CorrelatedInputs(3 * n, n, 8), 3 * n).ok());
    std::vector<double> h = acc.Hessian();
    for (int64_t j = 0; j < n; ++j) h[j * n + j] += 0.01;  // as GPTQ damps
    absl::StatusOr<std::vector<double>> u = UpperCholeskyOfInverse(h, n);
    ASSERT_TRUE(u.ok()) << u.status();
    const std::vector<double> ref = ReferenceUpperCholeskyOfInverse(h, n);
    double scale = 0.0;
    for (double v : ref) scale = std::max(scale, std::fabs(v));
    for (size_t i = 0; i < ref.size(); ++i) {
      ASSERT_NEAR((*u)[i], ref[i], 1e-9 * scale) << "n " << n << " at " << i;
    }
  }
}

TEST(HessianTest, BatchedAccumulationEqualsTokenByToken) {
  // The rank-k update over chunks (past one 256-token chunk, ragged row blocks) against one
  // token at a time and against the plain double sum.
  const int64_t cols = 70, samples = 300;
  const std::vector<float> x = CorrelatedInputs(samples, cols, 12);
  HessianAccumulator batched(cols), one_by_one(cols);
  ASSERT_TRUE(batched.Add(x, samples).ok());
  for (int64_t s = 0; s < samples; ++s) {
    ASSERT_TRUE(one_by_one
                    .Add(std::span<const float>(x).subspan(static_cast<size_t>(s * cols),
                                                           static_cast<size_t>(cols)),
                         1)
                    .ok());
  }
  EXPECT_EQ(batched.samples(), samples);
  const std::vector<double> hb = batched.Hessian(), h1 = one_by_one.Hessian();
  for (int64_t i = 0; i < cols; ++i) {
    for (int64_t j = 0; j < cols; ++j) {
      double plain = 0.0;
      for (int64_t s = 0; s < samples; ++s) {
        plain += static_cast<double>(x[s * cols + i]) * x[s * cols + j];
      }
      plain /= samples;
      const double tol = 1e-12 * (1.0 + std::fabs(plain));
      ASSERT_NEAR(hb[i * cols + j], plain, tol) << i << "," << j;
      ASSERT_NEAR(h1[i * cols + j], plain, tol) << i << "," << j;
      ASSERT_EQ(hb[i * cols + j], hb[j * cols + i]);
    }
  }
}

TEST(GptqTest, LazyBlockUpdatesEqualEagerOnes) {
  // Block 16 (the later columns updated by one GEMM per block) against one block over all
  // columns (every update applied as each column is quantized): the same algorithm, rounding
  // apart, so the same codes but for rare ties.
  const int64_t rows = 32, cols = 256;
  const std::vector<float> w = RandomNormal(static_cast<size_t>(rows * cols), 9, 0.1f);
  HessianAccumulator acc(cols);
  ASSERT_TRUE(acc.Add(CorrelatedInputs(512, cols, 40), 512).ok());
  WeightFormat f;
  f.bits = 3;
  f.group = 16;
  GptqOptions lazy, eager;
  lazy.block_size = 16;
  eager.block_size = static_cast<int>(cols);
  absl::StatusOr<UnpackedLinear> a = QuantizeGptqUnpacked(w, rows, cols, f, acc.Hessian(), lazy);
  absl::StatusOr<UnpackedLinear> b = QuantizeGptqUnpacked(w, rows, cols, f, acc.Hessian(), eager);
  ASSERT_TRUE(a.ok() && b.ok());
  int64_t differ = 0;
  for (size_t i = 0; i < a->codes.size(); ++i) differ += a->codes[i] != b->codes[i];
  EXPECT_LE(differ, static_cast<int64_t>(a->codes.size()) / 200) << differ << " codes differ";
  // A factor shared by several linears gives what each would get on its own.
  absl::StatusOr<GptqFactor> factor = FactorHessian(acc.Hessian(), cols, lazy.damp_percent);
  ASSERT_TRUE(factor.ok());
  absl::StatusOr<UnpackedLinear> c = QuantizeGptqUnpacked(w, rows, cols, f, *factor, lazy);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->codes, a->codes);
  EXPECT_EQ(c->scales, a->scales);
  EXPECT_THAT(
      QuantizeGptqUnpacked(std::span<const float>(w).first(rows * 128), rows, 128, f, *factor, lazy)
          .status(),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("factor is for 256 inputs")));
}

TEST(GptqTest, LowersOutputErrorVsRtnAtEveryWidth) {
  const Layer layer;
  for (int bits : {2, 3, 4}) {
    for (WeightScheme scheme : {WeightScheme::kUniform, WeightScheme::kPow2}) {
      WeightFormat f;
      f.bits = bits;
      f.scheme = scheme;
      absl::StatusOr<QuantizedLinear> rtn = QuantizeRtn(layer.w, layer.rows, layer.cols, f);
      absl::StatusOr<QuantizedLinear> gptq =
          QuantizeGptq(layer.w, layer.rows, layer.cols, f, layer.hessian);
      ASSERT_TRUE(rtn.ok()) << rtn.status();
      ASSERT_TRUE(gptq.ok()) << gptq.status();
      const double e_rtn = layer.Error(*rtn);
      const double e_gptq = layer.Error(*gptq);
      EXPECT_LT(e_gptq, 0.8 * e_rtn) << f.ToString() << ": rtn " << e_rtn << " gptq " << e_gptq;
    }
  }
}

TEST(GptqTest, EightBitIsNearlyLossless) {
  const Layer layer;
  WeightFormat f;
  f.bits = 8;
  absl::StatusOr<QuantizedLinear> q =
      QuantizeGptq(layer.w, layer.rows, layer.cols, f, layer.hessian);
  ASSERT_TRUE(q.ok());
  EXPECT_LT(layer.Error(*q), 0.01);
}

TEST(GptqTest, JointPruneAndQuantizeBeatsRtnAt24) {
  const Layer layer;
  WeightFormat f;
  f.bits = 4;
  f.sparsity = Sparsity::k2of4;
  absl::StatusOr<QuantizedLinear> rtn = QuantizeRtn(layer.w, layer.rows, layer.cols, f);
  const std::vector<uint8_t> wanda = WandaMask24(
      layer.w, layer.rows, layer.cols, InputFeatureNorms(layer.calib, layer.n_calib, layer.cols));
  absl::StatusOr<QuantizedLinear> rtn_wanda =
      QuantizeRtn(layer.w, layer.rows, layer.cols, f, {}, wanda);
  absl::StatusOr<QuantizedLinear> sparsegpt =
      QuantizeGptq(layer.w, layer.rows, layer.cols, f, layer.hessian);
  GptqOptions wanda_opts;
  wanda_opts.mask_selection = MaskSelection::kWanda;
  absl::StatusOr<QuantizedLinear> gptq_wanda =
      QuantizeGptq(layer.w, layer.rows, layer.cols, f, layer.hessian, wanda_opts);
  ASSERT_TRUE(rtn.ok() && rtn_wanda.ok() && sparsegpt.ok() && gptq_wanda.ok());
  for (const QuantizedLinear* q : {&*rtn, &*rtn_wanda, &*sparsegpt, &*gptq_wanda}) {
    ASSERT_TRUE(ValidateQuantizedLinear(q->view()).ok());
    const UnpackedLinear u = UnpackLinear(q->view());
    EXPECT_TRUE(Is24Pattern(u.keep, layer.rows, layer.cols));
    // Exactly the kept weights can be non-zero.
    const std::vector<float> w_hat = DequantizeLinear(q->view());
    for (size_t i = 0; i < w_hat.size(); ++i) {
      if (!u.keep[i]) {
        EXPECT_EQ(w_hat[i], 0.0f);
      }
    }
  }
  const double e_rtn = layer.Error(*rtn);
  const double e_rtn_wanda = layer.Error(*rtn_wanda);
  const double e_sparsegpt = layer.Error(*sparsegpt);
  const double e_gptq_wanda = layer.Error(*gptq_wanda);
  EXPECT_LT(e_rtn_wanda, e_rtn);
  EXPECT_LT(e_sparsegpt, 0.8 * e_rtn) << e_sparsegpt << " vs " << e_rtn;
  EXPECT_LT(e_gptq_wanda, 0.8 * e_rtn_wanda) << e_gptq_wanda << " vs " << e_rtn_wanda;
  // The fixed Wanda mask is kept as given.
  EXPECT_EQ(UnpackLinear(gptq_wanda->view()).keep, wanda);
}

TEST(GptqTest, DeadInputsAndRejectedArguments) {
  const int64_t rows = 4, cols = 16;
  const std::vector<float> w = RandomNormal(static_cast<size_t>(rows * cols), 1);
  std::vector<float> x = RandomNormal(static_cast<size_t>(32 * cols), 2);
  for (int64_t s = 0; s < 32; ++s) x[static_cast<size_t>(s * cols + 2)] = 0.0f;  // never active
  HessianAccumulator acc(cols);
  ASSERT_TRUE(acc.Add(x, 32).ok());
  WeightFormat f;
  f.group = 8;
  absl::StatusOr<QuantizedLinear> q = QuantizeGptq(w, rows, cols, f, acc.Hessian());
  ASSERT_TRUE(q.ok()) << q.status();
  const std::vector<float> w_hat = DequantizeLinear(q->view());
  for (int64_t r = 0; r < rows; ++r) EXPECT_NEAR(w_hat[r * cols + 2], 0.0f, 0.2f);
  EXPECT_THAT(QuantizeGptq(w, rows, cols, f, std::vector<double>(10)).status().message(),
              HasSubstr("hessian"));
  std::vector<float> bad = w;
  bad[5] = NAN;
  EXPECT_THAT(QuantizeGptq(bad, rows, cols, f, acc.Hessian()).status().message(),
              HasSubstr("not finite"));
}

TEST(SparsityTest, WandaPicksByWeightTimesInputNorm) {
  // One row, two blocks. Block 0: equal weights, so the input norms decide (columns 0 and 3).
  // Block 1: a small weight on a loud input beats larger weights on quiet ones.
  const std::vector<float> w = {1, 1, 1, 1, 0.1f, 1, -0.9f, 0.2f};
  const std::vector<float> norms = {10, 1, 0.1f, 5, 100, 1, 1, 1};
  EXPECT_THAT(WandaMask24(w, 1, 8, norms), ::testing::ElementsAre(1, 0, 0, 1, 1, 1, 0, 0));
  // Plain magnitude would keep columns 5 and 6 of block 1.
  EXPECT_THAT(WandaMask24(w, 1, 8, std::vector<float>(8, 1.0f)),
              ::testing::ElementsAre(1, 1, 0, 0, 0, 1, 1, 0));
  const std::vector<float> x = {3, 0, 4, 0, 0, 0};  // two samples of 3 features
  EXPECT_THAT(InputFeatureNorms(x, 2, 3), ::testing::ElementsAre(3, 0, 4));
}

TEST(RtnTest, MagnitudeMaskAndErrors) {
  WeightFormat f;
  f.bits = 8;
  f.sparsity = Sparsity::k2of4;
  const std::vector<float> w = {0.1f, -2, 3, 0.2f, 1, 1, 1, 1};
  absl::StatusOr<UnpackedLinear> u = QuantizeRtnUnpacked(w, 1, 8, f);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_THAT(u->keep, ::testing::ElementsAre(0, 1, 1, 0, 1, 1, 0, 0));
  EXPECT_THAT(QuantizeRtn(w, 1, 8, f, {}, std::vector<uint8_t>(8, 1)).status().message(),
              HasSubstr("not 2:4"));
  EXPECT_THAT(QuantizeRtn(w, 2, 8, f).status().message(), HasSubstr("expected [2, 8]"));
}

TEST(LayerErrorTest, RelativeOutputError) {
  const std::vector<float> w = {1, 0, 0, 1};
  const std::vector<float> w_hat = {1, 0, 0, 0.5f};
  const std::vector<float> x = {0, 2};
  absl::StatusOr<double> e = RelativeOutputError(w, w_hat, 2, 2, x, 1);
  ASSERT_TRUE(e.ok());
  EXPECT_DOUBLE_EQ(*e, 0.5);
  EXPECT_THAT(RelativeOutputError(w, w_hat, 2, 2, x, 2),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("activations of 2 values (2 samples)")));
}

}  // namespace
}  // namespace accllm
