// QuantizeModel end to end on small random models: calibration from the float model, GPTQ vs
// RTN per layer, the written directory, per-layer overrides, rotations, refusals.
#include "quant/model_quantizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <memory>
#include <vector>

#include "client/quantize/calibration_capture.h"  // CaptureCalibration
#include "model/llama2c_checkpoint.h"             // ImportLlama2c
#include "model/model_dir.h"                      // OpenModelDir
#include "model/tensor_names.h"                   // LinearName, LinearShape
#include "model/tensor_store.h"                   // TensorStore
#include "quant/quantization_config.h"            // ParseQuantizationConfig
#include "quant/quantized_linear_io.h"            // ReadQuantizedLinear
#include "quant/rotation.h"                       // Rotation
#include "tests/support/llama2c_fixture.h"        // WriteRandomLlama2c
#include "tests/support/status_matchers.h"
#include "tests/support/test_env.h"              // TempDir
#include "workers/engine/activation_observer.h"  // ActivationObserver
#include "workers/engine/kv_cache.h"             // KvCache
#include "workers/engine/kv_factory.h"           // MakeSequenceKv
#include "workers/engine/llama_model.h"          // LlamaModel

namespace accllm {
namespace {

using ::accllm::testing::StatusIs;
using ::accllm::testing::TempDir;
using ::testing::HasSubstr;

// A random float model plus calibration statistics taken from it (shared by the tests: the
// capture is the slow part).
class ModelQuantizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    testing::Llama2cShape shape;  // dim 32, hidden 80, 2 layers, GQA 4/2, vocab 64
    testing::WriteRandomLlama2c(tmp_->path() / "m.bin", shape, 7);
    ASSERT_TRUE(ImportLlama2c(tmp_->path() / "m.bin", tmp_->path() / "float", {}).ok());
    absl::StatusOr<ModelDir> dir = OpenModelDir(tmp_->path() / "float");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = new ModelDir(*dir);
    absl::StatusOr<std::unique_ptr<LlamaModel>> model = LlamaModel::Load(*dir_);
    ASSERT_TRUE(model.ok()) << model.status();
    absl::StatusOr<std::vector<std::vector<int32_t>>> seqs =
        SampleCalibrationSequences(**model, 16, 64, 3);
    ASSERT_TRUE(seqs.ok()) << seqs.status();
    stats_ = new CalibrationStats(dir_->config);
    ASSERT_TRUE(CaptureCalibration(**model, *seqs, *stats_).ok());
  }
  static void TearDownTestSuite() {
    delete stats_;
    delete dir_;
    delete tmp_;
  }

  static ModelQuantizeOptions W2Gptq() {
    ModelQuantizeOptions o;
    o.base.format = {
        .bits = 2, .scheme = WeightScheme::kUniform, .group = 16, .sparsity = Sparsity::kDense};
    o.base.method = QuantMethod::kGptq;
    o.kv_cache.bits = 4;
    return o;
  }

  static inline TempDir* tmp_ = nullptr;
  static inline ModelDir* dir_ = nullptr;
  static inline CalibrationStats* stats_ = nullptr;
};

TEST_F(ModelQuantizerTest, HoldsOutAQuarterOfTheSequences) {
  EXPECT_EQ(stats_->held_out_tokens() * 3, stats_->fit_tokens());
  EXPECT_EQ(HeldOutCount(16), 4);
  EXPECT_EQ(HeldOutCount(1), 0);
}

TEST_F(ModelQuantizerTest, GptqLowersEveryLayersHeldOutErrorVsRtnAtW2) {
  TempDir out;
  absl::StatusOr<ModelQuantizeReport> report =
      QuantizeModel(*dir_, stats_, W2Gptq(), out.path() / "q");
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(report->layers.size(), 2u * 7u);
  for (const LayerQuantReport& r : report->layers) {
    EXPECT_GT(r.relative_error, 0.0) << r.prefix;
    EXPECT_LT(r.relative_error, r.rtn_relative_error) << r.prefix;
  }
  // w2 g16: 2 bits + two fp16 per 16 weights = 4 bits.
  EXPECT_NEAR(report->bits_per_weight, 4.0, 1e-9);
}

// What the capture replaced: each token through Forward, its inputs added one by one.
class TokenObserver : public ActivationObserver {
 public:
  explicit TokenObserver(CalibrationStats& stats) : stats_(stats) {}
  void Observe(int32_t layer, LayerLinear linear, std::span<const float> x) override {
    EXPECT_TRUE(stats_.Add(layer, linear, x, held_out).ok());
  }
  bool held_out = false;

 private:
  CalibrationStats& stats_;
};

TEST_F(ModelQuantizerTest, BatchedCaptureEqualsTokenByToken) {
  absl::StatusOr<std::unique_ptr<LlamaModel>> model = LlamaModel::Load(*dir_);
  ASSERT_TRUE(model.ok()) << model.status();
  absl::StatusOr<std::vector<std::vector<int32_t>>> seqs =
      SampleCalibrationSequences(**model, 5, 40, 9);
  ASSERT_TRUE(seqs.ok());
  CalibrationStats batched(dir_->config), tokens(dir_->config);
  ASSERT_TRUE(CaptureCalibration(**model, *seqs, batched).ok());
  TokenObserver observer(tokens);
  (*model)->set_observer(&observer);
  const size_t held_from = seqs->size() - static_cast<size_t>(HeldOutCount(5));
  for (size_t i = 0; i < seqs->size(); ++i) {
    observer.held_out = i >= held_from;
    KvCache kv(dir_->config, 40);
    for (size_t pos = 0; pos < 40; ++pos) {
      ASSERT_TRUE((**model).Forward((*seqs)[i][pos], static_cast<int64_t>(pos), kv, {}).ok());
    }
  }
  (*model)->set_observer(nullptr);
  EXPECT_EQ(batched.fit_tokens(), tokens.fit_tokens());
  EXPECT_EQ(batched.held_out_tokens(), tokens.held_out_tokens());
  EXPECT_EQ(batched.held_out_tokens(), 40);
  for (int l = 0; l < dir_->config.n_layers; ++l) {
    for (LayerLinear linear : kAllLayerLinears) {
      for (bool held : {false, true}) {
        const std::vector<double> a =
            (held ? batched.HeldOut(l, linear) : batched.Fit(l, linear)).Hessian();
        const std::vector<double> b =
            (held ? tokens.HeldOut(l, linear) : tokens.Fit(l, linear)).Hessian();
        ASSERT_EQ(a.size(), b.size());
        for (size_t i = 0; i < a.size(); ++i) {
          ASSERT_NEAR(a[i], b[i], 1e-10 * (1.0 + std::fabs(b[i])))
              << "layer " << l << " " << static_cast<int>(linear) << (held ? " held" : " fit");
        }
      }
    }
  }
}

TEST_F(ModelQuantizerTest, ParallelSolveWritesWhatOneThreadWrites) {
  TempDir out;
  ModelQuantizeOptions o = W2Gptq();
  o.base.rotate = true;  // dim 32: Hadamard; hidden 80: a dense stored rotation
  o.threads = 1;
  absl::StatusOr<ModelQuantizeReport> one = QuantizeModel(*dir_, stats_, o, out.path() / "a");
  o.threads = 3;
  absl::StatusOr<ModelQuantizeReport> three = QuantizeModel(*dir_, stats_, o, out.path() / "b");
  ASSERT_TRUE(one.ok() && three.ok());
  auto bytes = [](const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  EXPECT_EQ(bytes(out.path() / "a" / "model.safetensors"),
            bytes(out.path() / "b" / "model.safetensors"));
  ASSERT_EQ(one->layers.size(), three->layers.size());
  for (size_t i = 0; i < one->layers.size(); ++i) {
    EXPECT_EQ(one->layers[i].relative_error, three->layers[i].relative_error);
  }
}

TEST_F(ModelQuantizerTest, WrittenDirectoryParsesBack) {
  TempDir out;
  ModelQuantizeOptions o = W2Gptq();
  o.base.format.sparsity = Sparsity::k2of4;
  absl::StatusOr<ModelQuantizeReport> report = QuantizeModel(*dir_, stats_, o, out.path() / "q");
  ASSERT_TRUE(report.ok()) << report.status();

  absl::StatusOr<ModelConfig> config = ReadModelConfig(out.path() / "q" / "config.json");
  ASSERT_TRUE(config.ok()) << config.status();
  absl::StatusOr<QuantizationConfig> qc =
      ParseQuantizationConfig(config->quantization_config_json, "config.json");
  ASSERT_TRUE(qc.ok()) << qc.status();
  EXPECT_EQ(*qc, report->config);
  EXPECT_EQ(qc->layers.size(), 14u);
  EXPECT_EQ(qc->kv_cache.bits, 4);
  EXPECT_EQ(qc->activation_bits, 8);

  absl::StatusOr<std::unique_ptr<TensorStore>> store = TensorStore::OpenDir(out.path() / "q");
  ASSERT_TRUE(store.ok()) << store.status();
  for (int l = 0; l < config->n_layers; ++l) {
    for (LayerLinear linear : kAllLayerLinears) {
      const std::string prefix = QuantizedTensorPrefix(LinearName(l, linear));
      const MatrixShape s = LinearShape(*config, linear);
      const WeightFormat* f = qc->LayerFormat(prefix);
      ASSERT_NE(f, nullptr) << prefix;
      EXPECT_EQ(f->sparsity, Sparsity::k2of4);
      EXPECT_EQ(f->zero_point, ZeroPoint::kInteger);  // auto, for 2:4; checked by the reader
      EXPECT_TRUE(ReadQuantizedLinear(**store, prefix, *f, s.rows, s.cols).ok()) << prefix;
      EXPECT_FALSE((*store)->Contains(prefix + ".weight"));
    }
    EXPECT_EQ((*store)->Get(AttnNormName(l))->dtype, DType::kF32);
  }
  absl::StatusOr<TensorView> emb = (*store)->Get("model.embed_tokens.qweight");
  ASSERT_TRUE(emb.ok());
  EXPECT_EQ(emb->dtype, DType::kI8);
  EXPECT_EQ(emb->shape, (std::vector<int64_t>{config->vocab_size, config->dim}));
  EXPECT_EQ((*store)->Get("model.embed_tokens.scales")->dtype, DType::kF16);
  EXPECT_FALSE((*store)->Contains(kEmbeddingName));
  EXPECT_FALSE((*store)->Contains("lm_head.qweight"));  // tied: the head is the embedding
}

TEST_F(ModelQuantizerTest, LayerConfigSetsPrecisionPerLayer) {
  ModelQuantizeOptions o = W2Gptq();
  absl::StatusOr<LayerConfig> lc = ParseLayerConfig(
      R"({"default": {"bits": 4},
          "layers": {"model.layers.*.mlp.down_proj": {"bits": 8, "method": "rtn"},
                     "model.layers.1.self_attn.q_proj": {"scheme": "pow2", "bits": 3},
                     "model.layers.0.self_attn.q_proj": "float"}})",
      "test");
  ASSERT_TRUE(lc.ok()) << lc.status();
  o.layer_config = *lc;
  TempDir out;
  absl::StatusOr<ModelQuantizeReport> report = QuantizeModel(*dir_, stats_, o, out.path() / "q");
  ASSERT_TRUE(report.ok()) << report.status();
  const QuantizationConfig& qc = report->config;
  EXPECT_EQ(qc.LayerFormat("model.layers.0.self_attn.q_proj"), nullptr);
  EXPECT_EQ(qc.LayerFormat("model.layers.0.mlp.down_proj")->bits, 8);
  EXPECT_EQ(qc.LayerFormat("model.layers.1.mlp.down_proj")->bits, 8);
  EXPECT_EQ(qc.LayerFormat("model.layers.1.self_attn.q_proj")->scheme, WeightScheme::kPow2);
  EXPECT_EQ(qc.LayerFormat("model.layers.1.self_attn.q_proj")->bits, 3);
  EXPECT_EQ(qc.LayerFormat("model.layers.0.self_attn.k_proj")->bits, 4);  // the default
  EXPECT_EQ(report->layers[0].format, "float");
  EXPECT_EQ(report->layers[0].bits_per_weight, 32.0);

  absl::StatusOr<std::unique_ptr<TensorStore>> store = TensorStore::OpenDir(out.path() / "q");
  ASSERT_TRUE(store.ok());
  EXPECT_TRUE((*store)->Contains("model.layers.0.self_attn.q_proj.weight"));
  EXPECT_FALSE((*store)->Contains("model.layers.0.self_attn.q_proj.qweight"));
}

TEST_F(ModelQuantizerTest, UnknownLayerInLayerConfigIsAnError) {
  ModelQuantizeOptions o = W2Gptq();
  o.layer_config = *ParseLayerConfig(R"({"layers": {"model.layers.9.mlp.up_proj": "float"}})", "t");
  TempDir out;
  absl::StatusOr<ModelQuantizeReport> report = QuantizeModel(*dir_, stats_, o, out.path() / "q");
  EXPECT_EQ(report.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(report.status().message(), HasSubstr("model.layers.9.mlp.up_proj"));
}

TEST_F(ModelQuantizerTest, AlreadyQuantizedInputIsRejected) {
  ModelDir quantized = *dir_;
  quantized.config.quantization_config_json = R"({"quant_method": "accllm"})";
  TempDir out;
  absl::StatusOr<ModelQuantizeReport> report =
      QuantizeModel(quantized, stats_, W2Gptq(), out.path() / "q");
  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(report.status().message(), HasSubstr("already quantized"));
}

// The stored W' applied to the rotated input Q x reproduces W x up to the (w8) rounding.
TEST_F(ModelQuantizerTest, RotatedLayersComputeWxFromRotatedInputs) {
  ModelQuantizeOptions o = W2Gptq();
  o.base.format.bits = 8;
  o.base.rotate = true;
  TempDir out;
  absl::StatusOr<ModelQuantizeReport> report = QuantizeModel(*dir_, stats_, o, out.path() / "q");
  ASSERT_TRUE(report.ok()) << report.status();
  absl::StatusOr<std::unique_ptr<TensorStore>> store = TensorStore::OpenDir(out.path() / "q");
  ASSERT_TRUE(store.ok());
  const QuantizationConfig& qc = report->config;
  EXPECT_EQ(qc.rotations.size(), 14u);
  int hadamard = 0, matrix = 0;
  for (LayerLinear linear : {LayerLinear::kQ, LayerLinear::kDown}) {  // dims 32 and 80
    const std::string prefix = QuantizedTensorPrefix(LinearName(0, linear));
    const MatrixShape s = LinearShape(dir_->config, linear);
    const RotationSpec* spec = qc.LayerRotation(prefix);
    ASSERT_NE(spec, nullptr);
    std::optional<Rotation> q;
    if (spec->kind == RotationSpec::Kind::kHadamard) {
      ++hadamard;
      q = Rotation::Hadamard(s.cols, spec->seed);
    } else {
      ++matrix;
      absl::StatusOr<TensorView> m = (*store)->Get(prefix + ".rotation");
      ASSERT_TRUE(m.ok()) << prefix;
      absl::StatusOr<Rotation> r = Rotation::FromMatrix(ToFloat32Vector(*m), s.cols);
      ASSERT_TRUE(r.ok()) << r.status();
      q = *r;
    }
    absl::StatusOr<QuantizedLinear> ql =
        ReadQuantizedLinear(**store, prefix, *qc.LayerFormat(prefix), s.rows, s.cols);
    ASSERT_TRUE(ql.ok()) << ql.status();
    const std::vector<float> w_hat = DequantizeLinear(ql->view());
    const std::vector<float> w = ToFloat32Vector(*dir_->tensors->Get(LinearName(0, linear)));
    std::vector<float> x(s.cols);
    for (int64_t j = 0; j < s.cols; ++j) x[j] = std::sin(0.7f * j + 0.3f);
    std::vector<float> qx = x;
    q->Apply(qx);
    double err = 0, ref = 0;
    for (int64_t r = 0; r < s.rows; ++r) {
      double y = 0, y_hat = 0;
      for (int64_t j = 0; j < s.cols; ++j) {
        y += w[r * s.cols + j] * x[j];
        y_hat += w_hat[r * s.cols + j] * qx[j];
      }
      err += (y - y_hat) * (y - y_hat);
      ref += y * y;
    }
    EXPECT_LT(std::sqrt(err / ref), 0.02) << prefix;
  }
  EXPECT_EQ(hadamard, 1);  // 32 inputs
  EXPECT_EQ(matrix, 1);    // 80 inputs: a stored orthogonal matrix
}

// The engine loads what the quantizer wrote (rotations, a stored rotation matrix, int8
// embedding) and, at w8 with float activations and KV, tracks the float model's logits.
TEST_F(ModelQuantizerTest, QuantizedDirectoryRunsInTheEngineCloseToFloat) {
  ModelQuantizeOptions o = W2Gptq();
  o.base.format.bits = 8;
  o.base.rotate = true;
  o.activation_bits = 16;
  o.kv_cache.bits = 16;
  TempDir out;
  ASSERT_TRUE(QuantizeModel(*dir_, stats_, o, out.path() / "q").ok());
  absl::StatusOr<ModelDir> qdir = OpenModelDir(out.path() / "q");
  ASSERT_TRUE(qdir.ok()) << qdir.status();
  absl::StatusOr<std::unique_ptr<LlamaModel>> qmodel = LlamaModel::Load(*qdir);
  ASSERT_TRUE(qmodel.ok()) << qmodel.status();
  absl::StatusOr<std::unique_ptr<LlamaModel>> fmodel = LlamaModel::Load(*dir_);
  ASSERT_TRUE(fmodel.ok());
  const int32_t vocab = dir_->config.vocab_size;
  std::unique_ptr<SequenceKv> qkv = MakeSequenceKv(**qmodel, 16);
  std::unique_ptr<SequenceKv> fkv = MakeSequenceKv(**fmodel, 16);
  std::vector<float> ql(vocab), fl(vocab);
  double err = 0, ref = 0;
  const int32_t tokens[] = {1, 7, 30, 2, 55, 13, 13, 40};
  for (int pos = 0; pos < 8; ++pos) {
    ASSERT_TRUE((*qmodel)->Forward(tokens[pos], pos, *qkv, ql).ok());
    ASSERT_TRUE((*fmodel)->Forward(tokens[pos], pos, *fkv, fl).ok());
    for (int32_t v = 0; v < vocab; ++v) {
      err += (ql[v] - fl[v]) * (ql[v] - fl[v]);
      ref += fl[v] * fl[v];
    }
  }
  EXPECT_LT(std::sqrt(err / ref), 0.05);
}

TEST(LayerConfigTest, GlobsAndStrictParsing) {
  EXPECT_TRUE(GlobMatch("model.layers.*.mlp.down_proj", "model.layers.12.mlp.down_proj"));
  EXPECT_FALSE(GlobMatch("model.layers.*.mlp.down_proj", "model.layers.1.mlp.up_proj"));
  EXPECT_TRUE(GlobMatch("*", "x"));
  EXPECT_TRUE(GlobMatch("a?c", "abc"));
  EXPECT_THAT(ParseLayerConfig(R"({"layers": {"x": {"bitz": 4}}})", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("f: layers[\"x\"]: unknown field \"bitz\"")));
  EXPECT_THAT(ParseLayerConfig(R"({"layers": {"x": "half"}})", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("f: layers[\"x\"]: must be an object")));
  EXPECT_THAT(ParseLayerConfig(R"({"layers": {"x": {"scheme": "log"}}})", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("f: layers[\"x\"].scheme")));
  EXPECT_THAT(
      ParseLayerConfig(R"({"defaults": {}})", "f"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("f: unknown field \"defaults\"")));
  EXPECT_THAT(ParseLayerConfig("{", "f"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("f: not valid JSON")));
  absl::StatusOr<LayerConfig> lc =
      ParseLayerConfig(R"({"layers": {"a.*": {"bits": 8}, "a.b": {"bits": 3}}})", "f");
  ASSERT_TRUE(lc.ok());
  LayerPlan base;
  EXPECT_EQ(lc->PlanFor("a.b", base).format.bits, 3);  // exact beats glob
  EXPECT_EQ(lc->PlanFor("a.c", base).format.bits, 8);
  EXPECT_EQ(lc->PlanFor("b", base).format.bits, base.format.bits);
}

// Auto: integer zero points for uniform 2:4 layers only; an explicit choice wins, at any level.
TEST(LayerConfigTest, ZeroPointAutoAndOverrides) {
  absl::StatusOr<LayerConfig> lc = ParseLayerConfig(
      R"({"layers": {"sparse": {"sparsity": "2:4"},
                     "sparse_frac": {"sparsity": "2:4", "zero_point": "fractional"},
                     "dense_int": {"zero_point": "integer"},
                     "back_to_auto": {"zero_point": "auto", "sparsity": "2:4"},
                     "pow2": {"scheme": "pow2", "sparsity": "2:4"}}})",
      "f");
  ASSERT_TRUE(lc.ok()) << lc.status();
  LayerPlan base;
  EXPECT_EQ(lc->PlanFor("dense", base).format.zero_point, ZeroPoint::kFractional);
  EXPECT_EQ(lc->PlanFor("sparse", base).format.zero_point, ZeroPoint::kInteger);
  EXPECT_EQ(lc->PlanFor("sparse_frac", base).format.zero_point, ZeroPoint::kFractional);
  EXPECT_EQ(lc->PlanFor("dense_int", base).format.zero_point, ZeroPoint::kInteger);
  EXPECT_EQ(lc->PlanFor("pow2", base).format.zero_point, ZeroPoint::kFractional);
  base.zero_point = ZeroPoint::kFractional;  // e.g. --zero-point fractional
  EXPECT_EQ(lc->PlanFor("sparse", base).format.zero_point, ZeroPoint::kFractional);
  EXPECT_EQ(lc->PlanFor("back_to_auto", base).format.zero_point, ZeroPoint::kInteger);
  absl::StatusOr<LayerConfig> bad =
      ParseLayerConfig(R"({"layers": {"x": {"zero_point": "half"}}})", "f");
  EXPECT_THAT(std::string(bad.status().message()),
              ::testing::HasSubstr("f: layers[\"x\"].zero_point"));
}

}  // namespace
}  // namespace accllm
