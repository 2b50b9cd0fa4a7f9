#include "model/hf_import.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "model/llama2c_checkpoint.h"
#include "model/model_dir.h"
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
using ::testing::HasSubstr;

// Builds a Hugging Face-style directory as transformers would save it: BF16
// tensors in shards with an index, an unused rotary inv_freq buffer, the
// config with HF's extra fields, from a model directory we trust.
void WriteHfDir(const std::filesystem::path& from, const std::filesystem::path& to) {
  absl::StatusOr<std::unique_ptr<TensorStore>> store = TensorStore::OpenDir(from);
  ASSERT_TRUE(store.ok());
  std::vector<std::vector<std::byte>> keep;
  SafetensorsWriter w;
  for (const std::string& name : (*store)->TensorNames()) {
    absl::StatusOr<TensorView> t = (*store)->Get(name);
    ASSERT_TRUE(t.ok());
    keep.push_back(EncodeFloat32(ToFloat32Vector(*t), DType::kBF16));
    ASSERT_TRUE(w.Add(name, DType::kBF16, t->shape, keep.back()).ok());
  }
  keep.push_back(EncodeFloat32(std::vector<float>(4, 1.0f), DType::kF32));
  ASSERT_TRUE(
      w.Add("model.layers.0.self_attn.rotary_emb.inv_freq", DType::kF32, {4}, keep.back()).ok());
  std::filesystem::create_directories(to);
  ASSERT_TRUE(WriteTensorsToDir(w, to, /*max_shard_bytes=*/20000).ok());
  ASSERT_TRUE(std::filesystem::exists(to / "model.safetensors.index.json"));
  std::string config = ReadFileOrDie(from / "config.json");
  config.replace(config.rfind('}'), 1,
                 ", \"transformers_version\": \"4.40.0\", \"use_cache\": true, "
                 "\"attention_bias\": false, \"pretraining_tp\": 1}");
  WriteFileOrDie(to / "config.json", config);
}

TEST(HfImportTest, ShardedBf16DirectoryImportsAndKeepsTheWeights) {
  TempDir tmp;
  testing::Llama2cShape shape;
  shape.shared_classifier = false;
  testing::WriteRandomLlama2c(tmp / "m.bin", shape, 5);
  ASSERT_TRUE(ImportLlama2c(tmp / "m.bin", tmp / "ours", {}).ok());
  WriteHfDir(tmp / "ours", tmp / "hf");

  HfImportOptions to_f32;
  to_f32.dtype = DType::kF32;
  ASSERT_TRUE(ImportHuggingFace(tmp / "hf", tmp / "imported", to_f32).ok());
  absl::StatusOr<ModelDir> a = OpenModelDir(tmp / "ours");
  absl::StatusOr<ModelDir> b = OpenModelDir(tmp / "imported");
  ASSERT_TRUE(a.ok() && b.ok()) << b.status();
  EXPECT_FALSE(b->tensors->Contains("model.layers.0.self_attn.rotary_emb.inv_freq"));
  for (const ExpectedTensor& e : ExpectedTensors(a->config)) {
    std::vector<float> x = ToFloat32Vector(*a->tensors->Get(e.name));
    absl::StatusOr<TensorView> t = b->tensors->Get(e.name);
    ASSERT_TRUE(t.ok()) << e.name;
    EXPECT_EQ(t->dtype, DType::kF32);
    std::vector<float> y = ToFloat32Vector(*t);
    ASSERT_EQ(x.size(), y.size());
    for (size_t i = 0; i < x.size(); ++i) {
      ASSERT_NEAR(x[i], y[i], std::abs(x[i]) / 128 + 1e-30f) << e.name;  // bf16: 8 bits
    }
  }
}

TEST(HfImportTest, KeepsSourceDtypeByDefault) {
  TempDir tmp;
  testing::WriteRandomLlama2c(tmp / "m.bin", {}, 6);
  ASSERT_TRUE(ImportLlama2c(tmp / "m.bin", tmp / "ours", {}).ok());
  WriteHfDir(tmp / "ours", tmp / "hf");
  ASSERT_TRUE(ImportHuggingFace(tmp / "hf", tmp / "imported", {}).ok());
  absl::StatusOr<ModelDir> b = OpenModelDir(tmp / "imported");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->tensors->Get(kEmbeddingName)->dtype, DType::kBF16);
  EXPECT_EQ(b->config.torch_dtype, "bfloat16");
}

TEST(HfImportTest, ErrorsNameWhatIsWrong) {
  TempDir tmp;
  testing::WriteRandomLlama2c(tmp / "m.bin", {}, 7);
  ASSERT_TRUE(ImportLlama2c(tmp / "m.bin", tmp / "ours", {}).ok());
  WriteHfDir(tmp / "ours", tmp / "hf");

  // A shard the index names is missing.
  std::filesystem::path shard;
  for (const auto& entry : std::filesystem::directory_iterator(tmp / "hf")) {
    if (entry.path().filename().string().find("-of-") != std::string::npos) shard = entry.path();
  }
  ASSERT_FALSE(shard.empty());
  std::filesystem::rename(shard, tmp / "moved");
  absl::Status s = ImportHuggingFace(tmp / "hf", tmp / "out1", {});
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kNotFound,
                          HasSubstr("shard \"" + shard.filename().string() + "\"")));
  std::filesystem::rename(tmp / "moved", shard);

  // A config that is not a Llama.
  std::string config = ReadFileOrDie(tmp / "hf" / "config.json");
  WriteFileOrDie(tmp / "hf" / "config.json", "{\"model_type\": \"bert\"}");
  s = ImportHuggingFace(tmp / "hf", tmp / "out2", {});
  EXPECT_THAT(std::string(s.message()), HasSubstr("bert"));
  WriteFileOrDie(tmp / "hf" / "config.json", config);

  // Same directory in and out.
  EXPECT_THAT(ImportHuggingFace(tmp / "hf", tmp / "hf", {}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("different directories, both are " + (tmp / "hf").string())));
  // No such directory.
  EXPECT_THAT(ImportHuggingFace(tmp / "none", tmp / "out3", {}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("none/config.json")));
  EXPECT_TRUE(ImportHuggingFace(tmp / "hf", tmp / "out4", {}).ok());
}

}  // namespace
}  // namespace accllm
