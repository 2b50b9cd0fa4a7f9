#include "workers/fpga/kernels/dsp_packing.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

namespace accllm::fpga {
namespace {

TEST(DspPackingTest, PortsWrapLikeTheirWidths) {
  EXPECT_EQ(SignExtend((int64_t{1} << 26) - 1, kDspAWidth), (int64_t{1} << 26) - 1);
  EXPECT_EQ(SignExtend(int64_t{1} << 26, kDspAWidth), -(int64_t{1} << 26));
  EXPECT_EQ(SignExtend(-1, kDspBWidth), -1);
  // The largest product magnitude: (-2^26) x (-2^17) = 2^43, inside the 45-bit product.
  EXPECT_EQ(Dsp48Mac(0, -(int64_t{1} << 26), -(int64_t{1} << 17)), int64_t{1} << 43);
  // P wraps at 48 bits.
  const int64_t p_max = (int64_t{1} << 47) - 1;
  EXPECT_EQ(Dsp48Mac(p_max, 1, 1), -(int64_t{1} << 47));
}

TEST(DspPackingTest, GuardBoundsAreTheDocumentedOnes) {
  EXPECT_EQ(kPackW4Rows.max_macs, 68);
  EXPECT_EQ(kPackW2Rows.max_macs, 5);
  EXPECT_EQ(kPackTokens.max_macs, 68);
  EXPECT_EQ(kPackInt8Rows.max_macs, 7);
}

// Every packed operand fits the A port, and one packed multiply gives every lane's product,
// for all operand values: vals[i] ranges over [lo_a, hi_a] on A, b over [lo_b, hi_b].
void CheckAllSingleProducts(const DspPacking& k, int32_t lo_a, int32_t hi_a, int32_t lo_b,
                            int32_t hi_b) {
  const int32_t span = hi_a - lo_a + 1;
  int64_t combos = 1;
  for (int32_t i = 0; i < k.lanes; ++i) combos *= span;
  int64_t failures = 0;
  for (int64_t idx = 0; idx < combos; ++idx) {
    int32_t v[kDspMaxLanes] = {};
    int64_t rest = idx;
    for (int32_t i = 0; i < k.lanes; ++i) {
      v[i] = lo_a + static_cast<int32_t>(rest % span);
      rest /= span;
    }
    const int64_t a = PackA(k, v);
    if (SignExtend(a, kDspAWidth) != a) ++failures;
    for (int32_t b = lo_b; b <= hi_b; ++b) {
      int32_t out[kDspMaxLanes];
      ExtractLanes(k, Dsp48Mac(0, a, b), out);
      for (int32_t i = 0; i < k.lanes; ++i) {
        if (out[i] != v[i] * b) ++failures;
      }
    }
  }
  EXPECT_EQ(failures, 0);
}

TEST(DspPackingTest, W4RowsEveryCodePairTimesEveryInt8) {
  CheckAllSingleProducts(kPackW4Rows, 0, 15, -128, 127);
}
TEST(DspPackingTest, W2RowsEveryCodeTripleTimesEveryInt8) {
  CheckAllSingleProducts(kPackW2Rows, 0, 3, -128, 127);
}
TEST(DspPackingTest, TokensEveryInt8PairTimesEveryCode) {
  CheckAllSingleProducts(kPackTokens, -128, 127, 0, 15);
}
TEST(DspPackingTest, Int8RowsEveryInt8PairTimesEveryInt8) {
  CheckAllSingleProducts(kPackInt8Rows, -128, 127, -128, 127);
}

// Accumulated P = sum_i L_i 2^(i shift) depends only on the lane sums L_i, so extraction is
// checked for every lane-0 sum reachable in max_macs products, against lane-1 sums at their
// extremes (and for 3 lanes every lane-1 sum too).
void CheckAllLaneSums(const DspPacking& k, int64_t min_product, int64_t max_product) {
  const int64_t lo = k.max_macs * min_product, hi = k.max_macs * max_product;
  // The top lane only has to survive the 48-bit P; its extremes and the values around zero
  // (where a borrow from below shows) suffice. Three lanes already loop over lane 0 x lane 1.
  const std::vector<int64_t> top = k.lanes == 3
                                       ? std::vector<int64_t>{lo, -1, hi}
                                       : std::vector<int64_t>{lo, lo + 1, -1, 0, 1, hi - 1, hi};
  const int64_t mid_lo = k.lanes == 3 ? lo : 0, mid_hi = k.lanes == 3 ? hi : 0;
  int64_t failures = 0;
  for (int64_t l0 = lo; l0 <= hi; ++l0) {
    for (int64_t l1 = mid_lo; l1 <= mid_hi; ++l1) {
      for (int64_t lt : top) {
        const int64_t sums[kDspMaxLanes] = {l0, k.lanes == 3 ? l1 : lt, lt};
        // P as the accumulator holds it: the lane sums at their offsets, in 48 bits.
        int64_t p = 0;
        for (int32_t i = 0; i < k.lanes; ++i) p += sums[i] * (int64_t{1} << (i * k.shift));
        p = SignExtend(p, kDspPWidth);
        int32_t out[kDspMaxLanes];
        ExtractLanes(k, p, out);
        for (int32_t i = 0; i < k.lanes; ++i) failures += out[i] != sums[i];
      }
      if (failures > 0) break;
    }
  }
  EXPECT_EQ(failures, 0);
}

TEST(DspPackingTest, W4RowsEveryReachableLaneSum) { CheckAllLaneSums(kPackW4Rows, -1920, 1905); }
TEST(DspPackingTest, W2RowsEveryReachableLaneSum) { CheckAllLaneSums(kPackW2Rows, -384, 381); }
TEST(DspPackingTest, Int8RowsEveryReachableLaneSum) {
  CheckAllLaneSums(kPackInt8Rows, -16256, 16384);
}

// Real accumulation of max_macs packed products: the extreme sequences (every lane at its most
// positive or most negative product) and random ones; one more product breaks the extreme.
void CheckAccumulation(const DspPacking& k, int32_t lo_a, int32_t hi_a, int32_t lo_b,
                       int32_t hi_b) {
  auto run = [&](const std::vector<std::vector<int32_t>>& va, const std::vector<int32_t>& vb,
                 bool* exact) {
    int64_t p = 0;
    int64_t want[kDspMaxLanes] = {};
    for (size_t s = 0; s < vb.size(); ++s) {
      p = Dsp48Mac(p, PackA(k, va[s].data()), vb[s]);
      for (int32_t i = 0; i < k.lanes; ++i) want[i] += int64_t{va[s][i]} * vb[s];
    }
    int32_t out[kDspMaxLanes];
    ExtractLanes(k, p, out);
    *exact = true;
    for (int32_t i = 0; i < k.lanes; ++i) *exact = *exact && out[i] == want[i];
  };
  // Each lane at an extreme: a in {lo_a, hi_a} per lane, b in {lo_b, hi_b}.
  for (int32_t pattern = 0; pattern < (1 << k.lanes); ++pattern) {
    for (int32_t b : {lo_b, hi_b}) {
      std::vector<int32_t> a(kDspMaxLanes, 0);
      for (int32_t i = 0; i < k.lanes; ++i) a[i] = (pattern >> i) & 1 ? hi_a : lo_a;
      bool exact = false;
      run(std::vector<std::vector<int32_t>>(k.max_macs, a), std::vector<int32_t>(k.max_macs, b),
          &exact);
      EXPECT_TRUE(exact) << "pattern " << pattern << " b " << b;
    }
  }
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> da(lo_a, hi_a), db(lo_b, hi_b);
  for (int trial = 0; trial < 20000; ++trial) {
    const int32_t n = 1 + static_cast<int32_t>(rng() % k.max_macs);
    std::vector<std::vector<int32_t>> va(n, std::vector<int32_t>(kDspMaxLanes, 0));
    std::vector<int32_t> vb(n);
    for (int32_t s = 0; s < n; ++s) {
      for (int32_t i = 0; i < k.lanes; ++i) va[s][i] = da(rng);
      vb[s] = db(rng);
    }
    bool exact = false;
    run(va, vb, &exact);
    ASSERT_TRUE(exact) << "trial " << trial;
  }
  // The bound is tight: max_macs + 1 copies of lane 0's most negative or most positive
  // product (a corner of the operand ranges) break it.
  bool all_exact = true;
  for (int32_t a0 : {lo_a, hi_a}) {
    for (int32_t b : {lo_b, hi_b}) {
      std::vector<int32_t> a(kDspMaxLanes, 0);
      a[0] = a0;
      bool exact = false;
      run(std::vector<std::vector<int32_t>>(k.max_macs + 1, a),
          std::vector<int32_t>(k.max_macs + 1, b), &exact);
      all_exact = all_exact && exact;
    }
  }
  EXPECT_FALSE(all_exact);
}

TEST(DspPackingTest, W4RowsAccumulationWithinTheGuardBound) {
  CheckAccumulation(kPackW4Rows, 0, 15, -128, 127);
}
TEST(DspPackingTest, W2RowsAccumulationWithinTheGuardBound) {
  CheckAccumulation(kPackW2Rows, 0, 3, -128, 127);
}
TEST(DspPackingTest, TokensAccumulationWithinTheGuardBound) {
  CheckAccumulation(kPackTokens, -128, 127, 0, 15);
}
TEST(DspPackingTest, Int8RowsAccumulationWithinTheGuardBound) {
  CheckAccumulation(kPackInt8Rows, -128, 127, -128, 127);
}

}  // namespace
}  // namespace accllm::fpga
