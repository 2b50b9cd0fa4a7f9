#include "quant/int8_rows.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "model/dtype.h"  // HalfToFloat

namespace accllm {
namespace {

TEST(Int8RowsTest, RoundTripWithinHalfAStepAndMaxMapsTo127) {
  const int64_t rows = 3, cols = 10;
  std::vector<float> w(rows * cols);
  for (size_t i = 0; i < w.size(); ++i) w[i] = std::sin(1.3f * i) * (1 + i / 10);
  for (int64_t c = 0; c < cols; ++c) w[2 * cols + c] = 0.0f;  // an all-zero row
  Int8Rows q = QuantizeInt8Rows(w, rows, cols);
  std::vector<float> back = DequantizeInt8Rows(q, rows, cols);
  for (int64_t r = 0; r < rows; ++r) {
    const float s = HalfToFloat(q.scales[r]);
    EXPECT_GT(s, 0.0f);
    int max_code = 0;
    for (int64_t c = 0; c < cols; ++c) {
      EXPECT_LE(std::fabs(back[r * cols + c] - w[r * cols + c]), 0.5f * s + 1e-6f);
      max_code = std::max(max_code, std::abs(static_cast<int>(q.values[r * cols + c])));
    }
    if (r < 2) {
      EXPECT_GE(max_code, 126);
    }
  }
}

}  // namespace
}  // namespace accllm
