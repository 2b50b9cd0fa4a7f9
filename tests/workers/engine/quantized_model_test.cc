// The engine on quantized model directories: the packed path equals the float path on the
// dequantized weights (A16 KV16), the SIMD A8 GEMV equals the scalar oracle bit for bit, and
// the linear bits per weight come out of the stored layout.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "model/llama2c_checkpoint.h"                    // ImportLlama2c
#include "model/model_dir.h"                             // OpenModelDir
#include "tests/support/llama2c_fixture.h"               // WriteRandomLlama2c
#include "tests/support/test_env.h"                      // TempDir
#include "tests/workers/engine/quantized_dir_fixture.h"  // WriteQuantizedDir
#include "workers/engine/kv_factory.h"                   // MakeSequenceKv
#include "workers/engine/llama_model.h"                  // LlamaModel

namespace accllm {
namespace {

using ::accllm::testing::QuantizedDirOptions;
using ::accllm::testing::TempDir;
using ::accllm::testing::WriteQuantizedDir;

std::filesystem::path MakeFloatDir(const TempDir& tmp, bool shared_classifier, uint64_t seed) {
  testing::Llama2cShape shape;
  shape.shared_classifier = shared_classifier;
  testing::WriteRandomLlama2c(tmp / "m.bin", shape, seed);
  const std::filesystem::path out = tmp / "float";
  absl::Status s = ImportLlama2c(tmp / "m.bin", out, Llama2cImportOptions{});
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

std::unique_ptr<LlamaModel> Load(const std::filesystem::path& dir, LoadOptions options = {}) {
  absl::StatusOr<ModelDir> d = OpenModelDir(dir);
  EXPECT_TRUE(d.ok()) << d.status();
  if (!d.ok()) return nullptr;
  absl::StatusOr<std::unique_ptr<LlamaModel>> m = LlamaModel::Load(*d, options);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? *std::move(m) : nullptr;
}

// Logits of every position of `tokens`, [n, vocab].
std::vector<float> RunLogits(const LlamaModel& model, const std::vector<int32_t>& tokens) {
  const int32_t vocab = model.config().vocab_size;
  std::unique_ptr<SequenceKv> kv = MakeSequenceKv(model, static_cast<int32_t>(tokens.size()));
  std::vector<float> all(tokens.size() * vocab);
  for (size_t p = 0; p < tokens.size(); ++p) {
    absl::Status s = model.Forward(tokens[p], static_cast<int64_t>(p), *kv,
                                   std::span<float>(all.data() + p * vocab, vocab));
    EXPECT_TRUE(s.ok()) << s;
  }
  return all;
}

std::vector<int32_t> Tokens(int n, int vocab) {
  std::vector<int32_t> t;
  for (int i = 0; i < n; ++i) t.push_back((i * 37 + 11) % vocab);
  return t;
}

WeightFormat Format(int bits, int group, WeightScheme scheme = WeightScheme::kUniform,
                    Sparsity sparsity = Sparsity::kDense) {
  WeightFormat f;
  f.bits = bits;
  f.group = group;
  f.scheme = scheme;
  f.sparsity = sparsity;
  return f;
}

// A mixed model: W4 g16 dense (tiles), W2 2:4 up_proj, pow2 W3 gate, W8 v_proj, o_proj float,
// down_proj with an online Hadamard rotation.
QuantizedDirOptions MixedOptions(int activation_bits, int kv_bits) {
  QuantizedDirOptions o;
  o.config.weights = Format(4, 16);
  o.config.activation_bits = activation_bits;
  o.config.kv_cache.bits = kv_bits;
  o.overrides = {{"mlp.up_proj", Format(2, 16, WeightScheme::kUniform, Sparsity::k2of4)},
                 {"mlp.gate_proj", Format(3, 16, WeightScheme::kPow2)},
                 {"self_attn.v_proj", Format(8, 32)}};
  o.keep_float = {"self_attn.o_proj"};
  o.config.rotations["model.layers.0.mlp.down_proj"] =
      RotationSpec{RotationSpec::Kind::kHadamard, 7};
  o.config.rotations["model.layers.1.mlp.down_proj"] =
      RotationSpec{RotationSpec::Kind::kHadamard, 0};
  return o;
}

TEST(QuantizedModelTest, A16Kv16EqualsFloatModelOnDequantizedWeights) {
  for (bool shared : {true, false}) {
    TempDir tmp;
    const auto float_dir = MakeFloatDir(tmp, shared, 5);
    WriteQuantizedDir(float_dir, tmp / "q", tmp / "deq", MixedOptions(16, 16));
    auto q = Load(tmp / "q");
    auto deq = Load(tmp / "deq");
    ASSERT_TRUE(q && deq);
    EXPECT_EQ(q->kv_format().bits, 16);
    const std::vector<int32_t> tokens = Tokens(40, q->config().vocab_size);
    const std::vector<float> a = RunLogits(*q, tokens), b = RunLogits(*deq, tokens);
    ASSERT_EQ(a.size(), b.size());
    double max_diff = 0;
    for (size_t i = 0; i < a.size(); ++i)
      max_diff = std::max(max_diff, double(std::fabs(a[i] - b[i])));
    EXPECT_LT(max_diff, 1e-4) << "shared classifier " << shared;
    // Float layers count 32 bits, so the mix sits between the packed widths and 32.
    EXPECT_GT(q->LinearBitsPerWeight(), 2.0);
    EXPECT_LT(q->LinearBitsPerWeight(), 32.0);
    EXPECT_EQ(deq->LinearBitsPerWeight(), 32.0);
  }
}

TEST(QuantizedModelTest, A8SimdEqualsScalarOracleBitExact) {
  TempDir tmp;
  const auto float_dir = MakeFloatDir(tmp, false, 9);
  WriteQuantizedDir(float_dir, tmp / "q", {}, MixedOptions(8, 16));
  LoadOptions scalar;
  scalar.use_simd = false;
  LoadOptions simd;
  simd.threads = 2;
  auto a = Load(tmp / "q", scalar);
  auto b = Load(tmp / "q", simd);
  ASSERT_TRUE(a && b);
  const std::vector<int32_t> tokens = Tokens(24, a->config().vocab_size);
  const std::vector<float> la = RunLogits(*a, tokens), lb = RunLogits(*b, tokens);
  ASSERT_EQ(la.size(), lb.size());
  for (size_t i = 0; i < la.size(); ++i) ASSERT_EQ(la[i], lb[i]) << "logit " << i;
}

TEST(QuantizedModelTest, A8IsCloseToA16) {
  TempDir tmp;
  const auto float_dir = MakeFloatDir(tmp, true, 3);
  WriteQuantizedDir(float_dir, tmp / "a8", {}, MixedOptions(8, 16));
  WriteQuantizedDir(float_dir, tmp / "a16", {}, MixedOptions(16, 16));
  auto a8 = Load(tmp / "a8"), a16 = Load(tmp / "a16");
  ASSERT_TRUE(a8 && a16);
  const std::vector<int32_t> tokens = Tokens(24, a8->config().vocab_size);
  const std::vector<float> x = RunLogits(*a8, tokens), y = RunLogits(*a16, tokens);
  double max_diff = 0, max_abs = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    max_diff = std::max(max_diff, double(std::fabs(x[i] - y[i])));
    max_abs = std::max(max_abs, double(std::fabs(y[i])));
  }
  EXPECT_GT(max_diff, 0.0);  // the activations really are int8
  EXPECT_LT(max_diff, 0.05 * max_abs + 0.05);
}

TEST(QuantizedModelTest, BitsPerWeightOfAUniformW2Model) {
  TempDir tmp;
  const auto float_dir = MakeFloatDir(tmp, true, 4);
  QuantizedDirOptions o;
  o.config.weights = Format(2, 16);
  WriteQuantizedDir(float_dir, tmp / "q", {}, o);
  auto q = Load(tmp / "q");
  ASSERT_TRUE(q);
  // 2 bits + (fp16 scale + fp16 zero) / 16 = 4 bits per weight at group 16.
  EXPECT_NEAR(q->LinearBitsPerWeight(), 4.0, 1e-9);
}

}  // namespace
}  // namespace accllm
