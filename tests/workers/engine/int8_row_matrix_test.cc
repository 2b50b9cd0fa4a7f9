#include "workers/engine/int8_row_matrix.h"

#include <gmock/gmock.h>  // testing::HasSubstr
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "model/dtype.h"               // FloatToHalf, HalfToFloat
#include "model/safetensors_writer.h"  // SafetensorsWriter
#include "model/tensor_store.h"        // TensorStore, WriteTensorsToDir
#include "quant/a8.h"                  // QuantizeA8
#include "tests/support/test_env.h"    // TempDir

namespace accllm {
namespace {

using ::accllm::testing::TempDir;
using ::testing::HasSubstr;

// "t.qweight" I8 [rows, cols] and "t.scales" F16 [rows] in dir; values[0] replaced by `first`.
std::unique_ptr<TensorStore> WriteTable(const TempDir& dir, int64_t rows, int64_t cols,
                                        int8_t first = 5, float scale0 = 0.5f) {
  std::mt19937 rng(3);
  std::vector<std::byte> q(rows * cols), s(2 * rows);
  for (std::byte& b : q) b = static_cast<std::byte>(static_cast<int8_t>(rng() % 255 - 127));
  q[0] = static_cast<std::byte>(first);
  for (int64_t r = 0; r < rows; ++r) {
    const uint16_t h = FloatToHalf(r == 0 ? scale0 : 0.01f * (r + 1));
    std::memcpy(s.data() + 2 * r, &h, 2);
  }
  SafetensorsWriter w;
  EXPECT_TRUE(w.Add("t.qweight", DType::kI8, {rows, cols}, q).ok());
  EXPECT_TRUE(w.Add("t.scales", DType::kF16, {rows}, s).ok());
  EXPECT_TRUE(WriteTensorsToDir(w, dir.path()).ok());
  absl::StatusOr<std::unique_ptr<TensorStore>> store = TensorStore::OpenDir(dir.path());
  EXPECT_TRUE(store.ok()) << store.status();
  return *std::move(store);
}

// With A8 the values are kept only as the SIMD kernel's tiles: lookups read the tiles and give
// what the stored rows give (ragged tiles: 37 rows, 18 columns).
TEST(Int8RowMatrixTest, RowsFromTheTilesEqualTheStoredRows) {
  TempDir dir;
  const std::unique_ptr<TensorStore> store = WriteTable(dir, 37, 18);
  absl::StatusOr<Int8RowMatrix> tiled = Int8RowMatrix::Read(*store, "t", 37, 18, /*a8=*/true);
  absl::StatusOr<Int8RowMatrix> rows = Int8RowMatrix::Read(*store, "t", 37, 18, /*a8=*/false);
  ASSERT_TRUE(tiled.ok() && rows.ok()) << tiled.status() << rows.status();
  std::vector<float> a(18), b(18);
  for (int64_t r = 0; r < 37; ++r) {
    tiled->Row(r, a);
    rows->Row(r, b);
    ASSERT_EQ(a, b) << "row " << r;
  }
  // And as the A8 head: exact int32 dots of the stored values with QuantizeA8(x), scaled.
  std::vector<float> x(18), y(37);
  for (size_t c = 0; c < x.size(); ++c) x[c] = 0.1f * static_cast<float>(c) - 0.7f;
  tiled->Apply(x, y);
  const A8Vector xq = QuantizeA8(x);
  const TensorView q = *store->Get("t.qweight");
  const auto* values = reinterpret_cast<const int8_t*>(q.data.data());
  for (int64_t r = 0; r < 37; ++r) {
    int32_t dot = 0;
    for (int64_t c = 0; c < 18; ++c) dot += values[r * 18 + c] * xq.values[c];
    const float scale = HalfToFloat(tiled->scales()[r]);
    EXPECT_EQ(y[r], static_cast<float>(dot) * scale * xq.scale) << "row " << r;
  }
}

TEST(Int8RowMatrixTest, BadTablesAreRefusedNamingTheTensor) {
  {
    TempDir dir;
    const std::unique_ptr<TensorStore> store = WriteTable(dir, 4, 8, /*first=*/-128);
    absl::StatusOr<Int8RowMatrix> m = Int8RowMatrix::Read(*store, "t", 4, 8, true);
    EXPECT_THAT(m.status().message(), HasSubstr("\"t.qweight\" holds -128"));
  }
  {
    TempDir dir;
    const std::unique_ptr<TensorStore> store = WriteTable(dir, 4, 8, 5, /*scale0=*/-1.0f);
    absl::StatusOr<Int8RowMatrix> m = Int8RowMatrix::Read(*store, "t", 4, 8, false);
    EXPECT_THAT(m.status().message(), HasSubstr("\"t.scales\" row 0 is -1"));
  }
  {
    TempDir dir;
    const std::unique_ptr<TensorStore> store = WriteTable(dir, 4, 8);
    absl::StatusOr<Int8RowMatrix> m = Int8RowMatrix::Read(*store, "t", 4, 9, true);
    EXPECT_THAT(m.status().message(), HasSubstr("expected I8 [4, 9]"));
  }
}

}  // namespace
}  // namespace accllm
