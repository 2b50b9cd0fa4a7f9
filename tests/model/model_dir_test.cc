#include "model/model_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/llama2c_checkpoint.h"
#include "model/safetensors_writer.h"
#include "model/tensor.h"
#include "model/tensor_names.h"
#include "model/tensor_store.h"
#include "tests/support/llama2c_fixture.h"
#include "tests/support/test_env.h"

namespace accllm {
namespace {

using ::accllm::testing::ReadFileOrDie;
using ::accllm::testing::TempDir;
using ::accllm::testing::WriteFileOrDie;
using ::testing::HasSubstr;

// A good model directory, and a way to rewrite its tensors with one changed.
class ModelDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WriteRandomLlama2c(tmp_ / "m.bin", {}, 4);
    ASSERT_TRUE(ImportLlama2c(tmp_ / "m.bin", tmp_ / "m", {}).ok());
  }
  // Rewrites model.safetensors, letting `edit` change one named tensor's entry.
  void Rewrite(const std::string& target, DType dtype, std::vector<int64_t> shape,
               bool drop = false) {
    absl::StatusOr<std::unique_ptr<TensorStore>> store = TensorStore::OpenDir(tmp_ / "m");
    ASSERT_TRUE(store.ok());
    std::vector<std::vector<std::byte>> keep;
    SafetensorsWriter w;
    for (const std::string& name : (*store)->TensorNames()) {
      absl::StatusOr<TensorView> t = (*store)->Get(name);
      ASSERT_TRUE(t.ok());
      keep.emplace_back(t->data.begin(), t->data.end());
      if (name == target) {
        if (drop) continue;
        int64_t n = 1;
        for (int64_t d : shape) n *= d;
        keep.back().resize(n * DTypeSize(dtype));
        ASSERT_TRUE(w.Add(name, dtype, shape, keep.back()).ok());
      } else {
        ASSERT_TRUE(w.Add(name, t->dtype, t->shape, keep.back()).ok());
      }
    }
    store->reset();
    ASSERT_TRUE(w.Write(tmp_ / "m" / "model.safetensors").ok());
  }
  TempDir tmp_;
};

TEST_F(ModelDirTest, OpensAGoodDirectory) {
  absl::StatusOr<ModelDir> dir = OpenModelDir(tmp_ / "m");
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(dir->config.dim, 32);
}

TEST_F(ModelDirTest, MissingTensorIsNamed) {
  Rewrite(LinearName(1, LayerLinear::kUp), DType::kF32, {}, /*drop=*/true);
  absl::StatusOr<ModelDir> dir = OpenModelDir(tmp_ / "m");
  ASSERT_FALSE(dir.ok());
  EXPECT_THAT(std::string(dir.status().message()), HasSubstr("model.layers.1.mlp.up_proj.weight"));
}

TEST_F(ModelDirTest, WrongShapeIsNamedWithBothShapes) {
  Rewrite(LinearName(0, LayerLinear::kK), DType::kF32, {16, 31});
  absl::StatusOr<ModelDir> dir = OpenModelDir(tmp_ / "m");
  ASSERT_FALSE(dir.ok());
  EXPECT_THAT(std::string(dir.status().message()), HasSubstr("[16, 31]"));
  EXPECT_THAT(std::string(dir.status().message()), HasSubstr("[16, 32]"));
}

TEST_F(ModelDirTest, IntegerWeightsAreRejected) {
  Rewrite(kFinalNormName, DType::kI32, {32});
  absl::StatusOr<ModelDir> dir = OpenModelDir(tmp_ / "m");
  ASSERT_FALSE(dir.ok());
  EXPECT_THAT(std::string(dir.status().message()), HasSubstr("I32"));
}

TEST_F(ModelDirTest, ConfigInconsistentWithTensors) {
  std::string config = ReadFileOrDie(tmp_ / "m" / "config.json");
  const std::string from = "\"intermediate_size\": 80";
  config.replace(config.find(from), from.size(), "\"intermediate_size\": 96");
  WriteFileOrDie(tmp_ / "m" / "config.json", config);
  absl::StatusOr<ModelDir> dir = OpenModelDir(tmp_ / "m");
  ASSERT_FALSE(dir.ok());
  EXPECT_THAT(std::string(dir.status().message()), HasSubstr("config.json implies"));
}

TEST_F(ModelDirTest, MissingConfigOrWeightsOrDirectory) {
  EXPECT_FALSE(OpenModelDir(tmp_ / "nowhere").ok());
  std::filesystem::remove(tmp_ / "m" / "model.safetensors");
  EXPECT_FALSE(OpenModelDir(tmp_ / "m").ok());
  std::filesystem::remove(tmp_ / "m" / "config.json");
  absl::StatusOr<ModelDir> dir = OpenModelDir(tmp_ / "m");
  ASSERT_FALSE(dir.ok());
  EXPECT_THAT(std::string(dir.status().message()), HasSubstr("config.json"));
}

TEST_F(ModelDirTest, BrokenTokenizerIsAnErrorNotSilence) {
  WriteFileOrDie(tmp_ / "m" / "tokenizer.bin", "\x01\x02");
  EXPECT_FALSE(OpenModelDir(tmp_ / "m").ok());
}

}  // namespace
}  // namespace accllm
