#include "model/model_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/llama2c_checkpoint.h"
#include "model/safetensors_writer.h"
#include "model/tensor.h"
#include "model/tensor_names.h"
#include "model/tensor_store.h"
#include "tests/support/llama2c_fixture.h"
#include "tests/support/status_matchers.h"
#include "tests/support/test_env.h"

namespace accllm {
namespace {

using ::accllm::testing::ReadFileOrDie;
using ::accllm::testing::StatusIs;
using ::accllm::testing::TempDir;
using ::accllm::testing::WriteFileOrDie;
using ::testing::AllOf;
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
  EXPECT_THAT(dir, StatusIs(absl::StatusCode::kNotFound,
                            HasSubstr("no tensor \"model.layers.1.mlp.up_proj.weight\"")));
}

TEST_F(ModelDirTest, WrongShapeIsNamedWithBothShapes) {
  Rewrite(LinearName(0, LayerLinear::kK), DType::kF32, {16, 31});
  absl::StatusOr<ModelDir> dir = OpenModelDir(tmp_ / "m");
  EXPECT_THAT(dir, StatusIs(absl::StatusCode::kInvalidArgument,
                            AllOf(HasSubstr("model.layers.0.self_attn.k_proj.weight"),
                                  HasSubstr("[16, 31]"), HasSubstr("[16, 32]"))));
}

TEST_F(ModelDirTest, IntegerWeightsAreRejected) {
  Rewrite(kFinalNormName, DType::kI32, {32});
  absl::StatusOr<ModelDir> dir = OpenModelDir(tmp_ / "m");
  EXPECT_THAT(dir, StatusIs(absl::StatusCode::kInvalidArgument,
                            HasSubstr("tensor \"model.norm.weight\" has dtype I32")));
}

TEST_F(ModelDirTest, ConfigInconsistentWithTensors) {
  std::string config = ReadFileOrDie(tmp_ / "m" / "config.json");
  const std::string from = "\"intermediate_size\": 80";
  config.replace(config.find(from), from.size(), "\"intermediate_size\": 96");
  WriteFileOrDie(tmp_ / "m" / "config.json", config);
  absl::StatusOr<ModelDir> dir = OpenModelDir(tmp_ / "m");
  EXPECT_THAT(dir, StatusIs(absl::StatusCode::kInvalidArgument,
                            AllOf(HasSubstr("model.layers.0.mlp.gate_proj.weight"),
                                  HasSubstr("config.json implies [96, 32]"))));
}

TEST_F(ModelDirTest, MissingConfigOrWeightsOrDirectory) {
  EXPECT_THAT(OpenModelDir(tmp_ / "nowhere"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nowhere is not a model directory")));
  std::filesystem::remove(tmp_ / "m" / "model.safetensors");
  EXPECT_THAT(OpenModelDir(tmp_ / "m"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("neither model.safetensors")));
  std::filesystem::remove(tmp_ / "m" / "config.json");
  absl::StatusOr<ModelDir> dir = OpenModelDir(tmp_ / "m");
  EXPECT_THAT(dir, StatusIs(absl::StatusCode::kNotFound, HasSubstr("m/config.json")));
}

TEST_F(ModelDirTest, BrokenTokenizerIsAnErrorNotSilence) {
  WriteFileOrDie(tmp_ / "m" / "tokenizer.bin", "\x01\x02");
  EXPECT_THAT(OpenModelDir(tmp_ / "m"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("tokenizer.bin is 2 bytes")));
}

}  // namespace
}  // namespace accllm
