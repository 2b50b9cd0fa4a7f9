// Malformed quantized directories fail at load with the tensor or field named.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "model/config.h"                                // ReadModelConfig, WriteModelConfig
#include "model/llama2c_checkpoint.h"                    // ImportLlama2c
#include "model/model_dir.h"                             // OpenModelDir
#include "tests/support/llama2c_fixture.h"               // WriteRandomLlama2c
#include "tests/support/test_env.h"                      // TempDir
#include "tests/workers/engine/quantized_dir_fixture.h"  // WriteQuantizedDir
#include "workers/engine/llama_model.h"                  // LlamaModel

namespace accllm {
namespace {

using ::accllm::testing::QuantizedDirOptions;
using ::accllm::testing::TempDir;
using ::accllm::testing::WriteQuantizedDir;
using ::testing::HasSubstr;

constexpr char kQ0[] = "model.layers.0.self_attn.q_proj";

class QuantizedDirErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WriteRandomLlama2c(tmp_ / "m.bin", testing::Llama2cShape{}, 2);
    ASSERT_TRUE(ImportLlama2c(tmp_ / "m.bin", tmp_ / "float", Llama2cImportOptions{}).ok());
    options_.config.weights.bits = 4;
    options_.config.weights.group = 16;
  }

  // The error of opening + loading the directory written with options_ ("ok" when it loads).
  std::string Error() {
    WriteQuantizedDir(tmp_ / "float", tmp_ / "q", {}, options_);
    return LoadError();
  }
  std::string LoadError() {
    absl::StatusOr<ModelDir> d = OpenModelDir(tmp_ / "q");
    if (!d.ok()) return std::string(d.status().message());
    absl::StatusOr<std::unique_ptr<LlamaModel>> m = LlamaModel::Load(*d);
    return m.ok() ? "ok" : std::string(m.status().message());
  }
  // Rewrites config.json's quantization_config.
  void EditConfig(const std::function<void(std::string&)>& edit) {
    absl::StatusOr<ModelConfig> c = ReadModelConfig(tmp_ / "q" / "config.json");
    ASSERT_TRUE(c.ok()) << c.status();
    edit(c->quantization_config_json);
    ASSERT_TRUE(WriteModelConfig(*c, tmp_ / "q" / "config.json").ok());
  }

  TempDir tmp_;
  QuantizedDirOptions options_;
};

TEST_F(QuantizedDirErrorsTest, WellFormedLoads) { EXPECT_EQ(Error(), "ok"); }

TEST_F(QuantizedDirErrorsTest, MissingScales) {
  options_.edit = [](std::string& name, std::vector<int64_t>&) {
    return name != std::string(kQ0) + ".scales";
  };
  EXPECT_THAT(Error(), HasSubstr("model.layers.0.self_attn.q_proj.scales"));
}

TEST_F(QuantizedDirErrorsTest, WrongShape) {
  options_.edit = [](std::string& name, std::vector<int64_t>& shape) {
    if (name == std::string(kQ0) + ".zeros") std::swap(shape[0], shape[1]);
    return true;
  };
  EXPECT_THAT(Error(), HasSubstr("model.layers.0.self_attn.q_proj.zeros"));
}

TEST_F(QuantizedDirErrorsTest, LayerMapNamesANonExistentLinear) {
  ASSERT_EQ(Error(), "ok");
  EditConfig([](std::string& j) {
    j.replace(j.find("\"layers\":{") + 10, 0,
              "\"model.layers.7.self_attn.q_proj\":{\"bits\":4,\"group_size\":16},");
  });
  EXPECT_THAT(LoadError(),
              HasSubstr("layers[\"model.layers.7.self_attn.q_proj\"] is not a linear"));
}

TEST_F(QuantizedDirErrorsTest, PackedLayerTheMapDoesNotList) {
  ASSERT_EQ(Error(), "ok");
  EditConfig([](std::string& j) {
    absl::StatusOr<QuantizationConfig> q = ParseQuantizationConfig(j, "x");
    ASSERT_TRUE(q.ok());
    q->layers.erase(kQ0);
    j = QuantizationConfigToJson(*q);
  });
  EXPECT_THAT(LoadError(), HasSubstr("\"model.layers.0.self_attn.q_proj.qweight\" is stored but"));
}

TEST_F(QuantizedDirErrorsTest, BadJsonField) {
  ASSERT_EQ(Error(), "ok");
  EditConfig([](std::string& j) {
    const size_t at = j.find("\"activations\":{\"bits\":8}");
    ASSERT_NE(at, std::string::npos) << j;
    j.replace(at, 24, "\"activations\":{\"bits\":6}");
  });
  EXPECT_THAT(LoadError(), HasSubstr("quantization_config.activations.bits is 6"));
  EditConfig([](std::string& j) { j.replace(j.find("\"activations\""), 13, "\"activationz\""); });
  EXPECT_THAT(LoadError(), HasSubstr("quantization_config.activationz is unknown"));
}

TEST_F(QuantizedDirErrorsTest, MissingInt8EmbeddingScales) {
  options_.edit = [](std::string& name, std::vector<int64_t>&) {
    return name != "model.embed_tokens.scales";
  };
  EXPECT_THAT(Error(), HasSubstr("model.embed_tokens.scales"));
}

TEST_F(QuantizedDirErrorsTest, MissingMatrixRotation) {
  ASSERT_EQ(Error(), "ok");
  EditConfig([](std::string& j) {
    absl::StatusOr<QuantizationConfig> q = ParseQuantizationConfig(j, "x");
    ASSERT_TRUE(q.ok());
    q->rotations["model.layers.1.mlp.down_proj"] = RotationSpec{RotationSpec::Kind::kMatrix, 0};
    j = QuantizationConfigToJson(*q);
  });
  EXPECT_THAT(LoadError(), HasSubstr("model.layers.1.mlp.down_proj.rotation"));
}

TEST_F(QuantizedDirErrorsTest, MissingFloatAndPackedWeight) {
  options_.edit = [](std::string& name, std::vector<int64_t>&) {
    return name != std::string(kQ0) + ".qweight";
  };
  EXPECT_THAT(Error(), HasSubstr("model.layers.0.self_attn.q_proj.weight"));
}

}  // namespace
}  // namespace accllm
