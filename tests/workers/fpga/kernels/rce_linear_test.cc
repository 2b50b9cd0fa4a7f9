#include "workers/fpga/kernels/rce_linear.h"

#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "quant/a8.h"                               // QuantizeA8
#include "quant/group_quantizer.h"                  // RoundToHalf
#include "quant/quantized_linear.h"                 // PackLinear
#include "quant/reference_matvec.h"                 // MatVecA8
#include "tests/workers/fpga/kernels/fake_banks.h"  // FakeBanks

namespace accllm::fpga {
namespace {

struct Shape {
  int64_t rows, cols;
  int group;
};

// Ragged everywhere: rows not multiples of the 2/3-row DSP blocks, last groups short, groups
// longer than the DSP guard bounds (68 and 5 products), cols below one group.
const Shape kShapes[] = {{37, 172, 64},  {7, 100, 32}, {3, 12, 8},  {16, 256, 64}, {1, 64, 64},
                         {11, 460, 200}, {5, 29, 6},   {4, 23, 64}, {6, 300, 128}, {2, 20, 4}};

bool Fits(const WeightFormat& f, const Shape& s) {
  return f.sparsity == Sparsity::kDense || (s.cols % 4 == 0 && s.group % 4 == 0);
}

enum class Fill { kRandom, kExtremePositive, kExtremeNegative };

QuantizedLinear RandomLinear(WeightFormat f, const Shape& s, uint64_t seed, Fill fill) {
  std::mt19937_64 rng(seed);
  f.group = s.group;
  UnpackedLinear u;
  u.format = f;
  u.rows = s.rows;
  u.cols = s.cols;
  const int max_code = MaxCode(f.bits);
  u.codes.resize(static_cast<size_t>(s.rows * s.cols));
  for (uint8_t& c : u.codes) {
    c = static_cast<uint8_t>(rng() % (max_code + 1));
    // Extreme: the largest product magnitude (uniform: the top code; pow2: +2^max).
    if (fill != Fill::kRandom) {
      c = static_cast<uint8_t>(f.scheme == WeightScheme::kUniform ? max_code
                                                                  : Pow2MaxExponent(f.bits));
    }
  }
  if (f.sparsity == Sparsity::k2of4) {
    u.keep.assign(u.codes.size(), 0);
    for (size_t b = 0; b < u.keep.size(); b += 4) {
      const int first = static_cast<int>(rng() % 4);
      const int second = (first + 1 + static_cast<int>(rng() % 3)) % 4;
      u.keep[b + first] = u.keep[b + second] = 1;
    }
  }
  const int64_t groups = (s.cols + s.group - 1) / s.group;
  std::uniform_real_distribution<float> scale(0.001f, 0.05f), zero(-1.0f, max_code + 1.0f);
  for (int64_t i = 0; i < s.rows * groups; ++i) {
    u.scales.push_back(RoundToHalf(scale(rng)));
    if (f.scheme != WeightScheme::kUniform) continue;
    u.zeros.push_back(f.zero_point == ZeroPoint::kInteger
                          ? static_cast<float>(rng() % (max_code + 1))
                          : RoundToHalf(zero(rng)));
  }
  absl::StatusOr<QuantizedLinear> q = PackLinear(u);
  EXPECT_TRUE(q.ok()) << q.status();
  return *std::move(q);
}

// Tokens of A8 activations: random with an outlier, token 1 all zero (scale 0); or every
// value at the int8 extreme (+-127).
std::vector<A8Vector> Activations(int64_t cols, int32_t tokens, uint64_t seed, Fill fill) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<A8Vector> out;
  for (int32_t t = 0; t < tokens; ++t) {
    std::vector<float> x(static_cast<size_t>(cols));
    for (float& v : x) v = n(rng);
    x[rng() % cols] = 12.0f;
    if (t == 1) x.assign(x.size(), 0.0f);
    if (fill == Fill::kExtremePositive) x.assign(x.size(), 1.0f);
    if (fill == Fill::kExtremeNegative) x.assign(x.size(), -1.0f);
    out.push_back(QuantizeA8(x));
  }
  return out;
}

LinearDesc PlaceLinear(testing::FakeBanks& banks, const QuantizedLinear& q) {
  LinearDesc d;
  d.rows = static_cast<int32_t>(q.layout.rows);
  d.cols = static_cast<int32_t>(q.layout.cols);
  d.bits = q.format.bits;
  d.pow2 = q.format.scheme == WeightScheme::kPow2;
  d.group = q.format.group;
  d.sparse24 = q.format.sparsity == Sparsity::k2of4;
  d.integer_zero = q.format.zero_point == ZeroPoint::kInteger;
  d.num_groups = q.layout.num_groups;
  d.qweight_row_bytes = q.layout.qweight_row_bytes;
  d.mask_row_bytes = q.layout.mask_row_bytes;
  d.qweight = banks.Place(4, q.qweight);
  d.scales = banks.Place(5, q.scales);
  d.zeros = banks.Place(5, q.zeros);  // the same bank as the scales, after them
  d.mask = banks.Place(9, q.mask);
  return d;
}

// Runs RceLinear on `tokens` tokens and compares every output bit with MatVecA8 per token and
// the counted bytes with one read of every tensor per tile.
void CheckLinear(const WeightFormat& f, const Shape& s, int32_t tokens, uint64_t seed, Fill fill) {
  SCOPED_TRACE(f.ToString() + " rows " + std::to_string(s.rows) + " cols " +
               std::to_string(s.cols) + " tokens " + std::to_string(tokens));
  const QuantizedLinear q = RandomLinear(f, s, seed, fill);
  const std::vector<A8Vector> xs = Activations(s.cols, tokens, seed + 1, fill);
  const testing::A8Batch x = testing::Concatenate(xs);
  testing::FakeBanks banks;
  const LinearDesc d = PlaceLinear(banks, q);
  std::vector<float> y(static_cast<size_t>(tokens * s.rows), -99.0f);
  RceLinear(banks.memory(), d, x.values.data(), x.scales.data(), tokens, y.data());

  std::vector<float> want(static_cast<size_t>(s.rows));
  for (int32_t t = 0; t < tokens; ++t) {
    ASSERT_TRUE(MatVecA8(q.view(), xs[t], want).ok());
    ASSERT_EQ(std::memcmp(y.data() + t * s.rows, want.data(), want.size() * sizeof(float)), 0)
        << "token " << t << " row 0: " << y[t * s.rows] << " vs " << want[0];
  }
  const uint64_t passes = (tokens + kMmTileTokens - 1) / kMmTileTokens;
  EXPECT_EQ(banks.counters.total_read(), d.bytes() * passes);
  EXPECT_EQ(banks.counters.bytes_read[4], q.qweight.size() * passes);
  EXPECT_EQ(banks.counters.bytes_read[5], (q.scales.size() + q.zeros.size()) * 2 * passes);
  EXPECT_EQ(banks.counters.bytes_read[9], q.mask.size() * passes);
  EXPECT_EQ(banks.counters.total_written(), 0u);
}

std::vector<WeightFormat> Formats() {
  std::vector<WeightFormat> out;
  for (Sparsity sp : {Sparsity::kDense, Sparsity::k2of4}) {
    for (int bits : {2, 3, 4, 8}) {
      for (ZeroPoint z : {ZeroPoint::kFractional, ZeroPoint::kInteger}) {
        out.push_back({.bits = bits,
                       .scheme = WeightScheme::kUniform,
                       .group = 64,
                       .sparsity = sp,
                       .zero_point = z});
      }
      if (bits <= 4) {
        out.push_back({.bits = bits, .scheme = WeightScheme::kPow2, .group = 64, .sparsity = sp});
      }
    }
  }
  return out;
}

class RceLinearTest : public ::testing::TestWithParam<WeightFormat> {};

TEST_P(RceLinearTest, EqualsMatVecA8PerTokenBitForBit) {
  uint64_t seed = 100;
  for (const Shape& s : kShapes) {
    if (!Fits(GetParam(), s)) continue;
    for (int32_t tokens : {1, 3, 16, 17, 40}) {
      CheckLinear(GetParam(), s, tokens, seed++, Fill::kRandom);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

// Every product at its largest magnitude over long groups: the DSP lanes sit at their guard
// bounds in every drain, and the int32 sums at their largest.
TEST_P(RceLinearTest, ExtremeOperandsOverLongGroups) {
  for (Fill fill : {Fill::kExtremePositive, Fill::kExtremeNegative}) {
    for (const Shape& s : {Shape{7, 1024, 1024}, Shape{5, 600, 256}}) {
      CheckLinear(GetParam(), s, 17, 7, fill);
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, RceLinearTest, ::testing::ValuesIn(Formats()),
                         [](const ::testing::TestParamInfo<WeightFormat>& info) {
                           std::string name = info.param.ToString();
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace accllm::fpga
