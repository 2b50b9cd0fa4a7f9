#include "workers/fpga/kernels/int8_table.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "model/dtype.h"                            // HalfToFloat
#include "quant/a8.h"                               // QuantizeA8
#include "quant/int8_rows.h"                        // QuantizeInt8Rows, DequantizeInt8Rows
#include "tests/workers/fpga/kernels/fake_banks.h"  // FakeBanks
#include "workers/fpga/kernels/rce_linear.h"        // kMmTileTokens

namespace accllm::fpga {
namespace {

Int8Rows RandomTable(int64_t rows, int64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n(0.0f, 0.02f);
  std::vector<float> w(static_cast<size_t>(rows * cols));
  for (float& v : w) v = n(rng);
  for (int64_t c = 0; c < cols; ++c) w[c] = 0.0f;  // an all-zero row (scale 1)
  return QuantizeInt8Rows(w, rows, cols);
}

Int8TableDesc PlaceTable(testing::FakeBanks& banks, const Int8Rows& t, int64_t rows, int64_t cols) {
  Int8TableDesc d;
  d.rows = static_cast<int32_t>(rows);
  d.cols = static_cast<int32_t>(cols);
  d.values = banks.Place(2, t.values);
  d.scales = banks.Place(3, t.scales);
  return d;
}

TEST(Int8TableTest, EmbeddingRowEqualsDequantizeInt8Rows) {
  const int64_t rows = 19, cols = 77;
  const Int8Rows t = RandomTable(rows, cols, 1);
  const std::vector<float> want = DequantizeInt8Rows(t, rows, cols);
  testing::FakeBanks banks;
  const Int8TableDesc d = PlaceTable(banks, t, rows, cols);
  for (int32_t r = 0; r < rows; ++r) {
    std::vector<float> out(cols, -1.0f);
    Int8EmbeddingRow(banks.memory(), d, r, out.data());
    ASSERT_EQ(std::memcmp(out.data(), want.data() + r * cols, cols * sizeof(float)), 0) << r;
  }
  EXPECT_EQ(banks.counters.total_read(), d.bytes());  // every row once
}

// Int8RowMatrix::ApplyBatch under A8, restated: exact int32 dots, then
// float(dot) * scale[r] * x_scale in that order.
std::vector<float> HeadOracle(const Int8Rows& t, int64_t rows, int64_t cols,
                              const std::vector<A8Vector>& xs) {
  std::vector<float> y;
  for (const A8Vector& x : xs) {
    for (int64_t r = 0; r < rows; ++r) {
      int32_t dot = 0;
      for (int64_t c = 0; c < cols; ++c) dot += int32_t{t.values[r * cols + c]} * x.values[c];
      y.push_back(static_cast<float>(dot) * HalfToFloat(t.scales[r]) * x.scale);
    }
  }
  return y;
}

void CheckHead(const Int8Rows& t, int64_t rows, int64_t cols, const std::vector<A8Vector>& xs) {
  const int32_t tokens = static_cast<int32_t>(xs.size());
  SCOPED_TRACE("rows " + std::to_string(rows) + " cols " + std::to_string(cols) + " tokens " +
               std::to_string(tokens));
  const testing::A8Batch x = testing::Concatenate(xs);
  testing::FakeBanks banks;
  const Int8TableDesc d = PlaceTable(banks, t, rows, cols);
  std::vector<float> y(static_cast<size_t>(tokens * rows), -5.0f);
  Int8Head(banks.memory(), d, x.values.data(), x.scales.data(), tokens, y.data());
  const std::vector<float> want = HeadOracle(t, rows, cols, xs);
  ASSERT_EQ(y.size(), want.size());
  for (size_t i = 0; i < y.size(); ++i) {
    ASSERT_EQ(std::memcmp(&y[i], &want[i], sizeof(float)), 0)
        << "token " << i / rows << " row " << i % rows << ": " << y[i] << " vs " << want[i];
  }
  const uint64_t passes = (tokens + kMmTileTokens - 1) / kMmTileTokens;
  EXPECT_EQ(banks.counters.total_read(), d.bytes() * passes);
  EXPECT_EQ(banks.counters.bytes_read[2], t.values.size() * passes);
}

TEST(Int8TableTest, HeadEqualsTheCpuEngineArithmetic) {
  struct Shape {
    int64_t rows, cols;
  };
  uint64_t seed = 10;
  for (Shape s : {Shape{33, 64}, Shape{1, 5}, Shape{16, 130}, Shape{7, 301}, Shape{50, 23}}) {
    const Int8Rows t = RandomTable(s.rows, s.cols, seed++);
    for (int32_t tokens : {1, 3, 16, 17, 40}) {
      std::mt19937_64 rng(seed++);
      std::normal_distribution<float> n(0.0f, 1.0f);
      std::vector<A8Vector> xs;
      for (int32_t i = 0; i < tokens; ++i) {
        std::vector<float> x(static_cast<size_t>(s.cols));
        for (float& v : x) v = n(rng);
        if (i == 1) x.assign(x.size(), 0.0f);  // scale 0
        xs.push_back(QuantizeA8(x));
      }
      CheckHead(t, s.rows, s.cols, xs);
      if (HasFatalFailure()) return;
    }
  }
}

// +-127 everywhere over long rows: every DSP drain at its largest lane sums.
TEST(Int8TableTest, HeadAtTheInt8Extremes) {
  const int64_t rows = 5, cols = 1000;
  Int8Rows t;
  t.values.resize(rows * cols);
  for (int64_t i = 0; i < rows * cols; ++i) t.values[i] = (i / cols) % 2 ? -127 : 127;
  t.scales.assign(rows, 0x2C00);  // 1/16
  for (float sign : {1.0f, -1.0f}) {
    std::vector<A8Vector> xs(17, QuantizeA8(std::vector<float>(cols, sign)));
    CheckHead(t, rows, cols, xs);
  }
}

}  // namespace
}  // namespace accllm::fpga
