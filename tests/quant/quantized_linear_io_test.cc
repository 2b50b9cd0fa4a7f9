#include "quant/quantized_linear_io.h"

#include <gmock/gmock.h>  // testing::HasSubstr
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "model/safetensors_writer.h"     // SafetensorsWriter
#include "model/tensor_store.h"           // TensorStore, WriteTensorsToDir
#include "quant/rtn.h"                    // QuantizeRtn
#include "tests/quant/quant_test_util.h"  // AllFormats, RandomNormal
#include "tests/support/test_env.h"       // TempDir

namespace accllm {
namespace {

using ::accllm::testing::AllFormats;
using ::accllm::testing::RandomNormal;
using ::accllm::testing::TempDir;
using ::testing::HasSubstr;

constexpr char kPrefix[] = "model.layers.0.mlp.down_proj";

QuantizedLinear MakeLayer(const WeightFormat& f, int64_t rows, int64_t cols) {
  absl::StatusOr<QuantizedLinear> q =
      QuantizeRtn(RandomNormal(static_cast<size_t>(rows * cols), 1), rows, cols, f);
  EXPECT_TRUE(q.ok()) << q.status();
  return *q;
}

std::unique_ptr<TensorStore> WriteAndOpen(const SafetensorsWriter& writer, const TempDir& dir) {
  EXPECT_TRUE(WriteTensorsToDir(writer, dir.path()).ok());
  absl::StatusOr<std::unique_ptr<TensorStore>> store = TensorStore::OpenDir(dir.path());
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

TEST(QuantizedLinearIoTest, PrefixDropsWeightSuffix) {
  EXPECT_EQ(QuantizedTensorPrefix("model.layers.0.self_attn.q_proj.weight"),
            "model.layers.0.self_attn.q_proj");
  EXPECT_EQ(QuantizedTensorPrefix("lm_head"), "lm_head");
}

TEST(QuantizedLinearIoTest, RoundTripEveryFormat) {
  const std::vector<WeightFormat> formats = AllFormats(64);
  std::vector<QuantizedLinear> layers;
  for (const WeightFormat& f : formats) layers.push_back(MakeLayer(f, 6, 172));
  SafetensorsWriter writer;
  for (size_t i = 0; i < layers.size(); ++i) {
    ASSERT_TRUE(AddQuantizedLinear(writer, "l" + std::to_string(i), layers[i]).ok());
  }
  TempDir dir;
  std::unique_ptr<TensorStore> store = WriteAndOpen(writer, dir);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->Contains("l0.zeros"));
  for (size_t i = 0; i < layers.size(); ++i) {
    SCOPED_TRACE(formats[i].ToString());
    absl::StatusOr<QuantizedLinear> back =
        ReadQuantizedLinear(*store, "l" + std::to_string(i), formats[i], 6, 172);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->qweight, layers[i].qweight);
    EXPECT_EQ(back->scales, layers[i].scales);
    EXPECT_EQ(back->zeros, layers[i].zeros);
    EXPECT_EQ(back->mask, layers[i].mask);
    EXPECT_EQ(store->Contains("l" + std::to_string(i) + ".mask"),
              formats[i].sparsity == Sparsity::k2of4);
  }
}

// Writes the layer's tensors after `mutate` has had its way with copies of them.
struct RawTensors {
  std::vector<uint8_t> qweight, mask;
  std::vector<uint16_t> scales, zeros;
  std::vector<int64_t> qweight_shape, scales_shape, mask_shape;
  DType scales_dtype = DType::kF16;

  explicit RawTensors(const QuantizedLinear& q)
      : qweight(q.qweight),
        mask(q.mask),
        scales(q.scales),
        zeros(q.zeros),
        qweight_shape{q.layout.rows, q.layout.qweight_row_bytes},
        scales_shape{q.layout.rows, q.layout.num_groups},
        mask_shape{q.layout.rows, q.layout.mask_row_bytes} {}

  void AddTo(SafetensorsWriter& w, bool with_zeros, bool with_mask) const {
    const std::string p = kPrefix;
    EXPECT_TRUE(
        w.Add(p + ".qweight", DType::kU8, qweight_shape, std::as_bytes(std::span(qweight))).ok());
    std::vector<int64_t> sshape = scales_shape;
    if (scales_dtype == DType::kU8) sshape.back() *= 2;  // same bytes, wrong type
    EXPECT_TRUE(w.Add(p + ".scales", scales_dtype, sshape, std::as_bytes(std::span(scales))).ok());
    if (with_zeros) {
      EXPECT_TRUE(
          w.Add(p + ".zeros", DType::kF16, scales_shape, std::as_bytes(std::span(zeros))).ok());
    }
    if (with_mask) {
      EXPECT_TRUE(w.Add(p + ".mask", DType::kU8, mask_shape, std::as_bytes(std::span(mask))).ok());
    }
  }
};

std::string ReadError(const RawTensors& raw, const WeightFormat& f, bool with_zeros,
                      bool with_mask) {
  SafetensorsWriter writer;
  raw.AddTo(writer, with_zeros, with_mask);
  TempDir dir;
  std::unique_ptr<TensorStore> store = WriteAndOpen(writer, dir);
  if (store == nullptr) return "store did not open";
  absl::StatusOr<QuantizedLinear> q = ReadQuantizedLinear(*store, kPrefix, f, 4, 64);
  return q.ok() ? "ok" : std::string(q.status().message());
}

TEST(QuantizedLinearIoTest, MalformedTensorsGiveErrorsNamingThem) {
  WeightFormat f;
  f.bits = 2;
  f.sparsity = Sparsity::k2of4;
  const QuantizedLinear q = MakeLayer(f, 4, 64);
  const RawTensors good(q);
  EXPECT_EQ(ReadError(good, f, true, true), "ok");

  EXPECT_THAT(ReadError(good, f, true, false),
              HasSubstr("model.layers.0.mlp.down_proj.mask is missing"));
  EXPECT_THAT(ReadError(good, f, false, true), HasSubstr("down_proj.zeros is missing"));
  {
    RawTensors raw = good;
    raw.mask[3] = 0xF3;  // row 0, block 7 keeps four
    EXPECT_THAT(ReadError(raw, f, true, true), HasSubstr("down_proj.mask[0] block 7"));
  }
  {
    RawTensors raw = good;
    raw.qweight_shape = {4, static_cast<int64_t>(raw.qweight.size() / 4)};
    raw.qweight.resize(raw.qweight.size() + 4);
    raw.qweight_shape[1] += 1;
    EXPECT_THAT(ReadError(raw, f, true, true),
                HasSubstr("down_proj.qweight has shape [4, 9], expected [4, 8]"));
  }
  {
    RawTensors raw = good;
    raw.scales_dtype = DType::kU8;
    EXPECT_THAT(ReadError(raw, f, true, true), HasSubstr("down_proj.scales has dtype U8"));
  }
  {
    RawTensors raw = good;
    raw.scales[2] = 0;  // a zero scale
    EXPECT_THAT(ReadError(raw, f, true, true), HasSubstr("down_proj.scales[2, 0]"));
  }
  // The config says pow2 dense, the file holds uniform 2:4 tensors.
  WeightFormat other = f;
  other.scheme = WeightScheme::kPow2;
  EXPECT_THAT(ReadError(good, other, true, true), HasSubstr("down_proj.zeros is present"));
  other.scheme = WeightScheme::kUniform;
  other.sparsity = Sparsity::kDense;
  EXPECT_THAT(ReadError(good, other, true, false), HasSubstr("down_proj.qweight has shape"));
}

TEST(QuantizedLinearIoTest, WriterRejectsAnInvalidLayer) {
  WeightFormat f;
  QuantizedLinear q = MakeLayer(f, 2, 64);
  q.scales.pop_back();
  SafetensorsWriter writer;
  EXPECT_THAT(AddQuantizedLinear(writer, kPrefix, q).message(),
              HasSubstr("down_proj: not written"));
  EXPECT_EQ(writer.size(), 0u);
}

}  // namespace
}  // namespace accllm
