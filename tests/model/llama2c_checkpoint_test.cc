#include "model/llama2c_checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "model/model_dir.h"
#include "model/tensor_names.h"
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

TEST(Llama2cCheckpointTest, ReadsSharedAndSeparateClassifierVariants) {
  TempDir tmp;
  for (bool shared : {true, false}) {
    testing::Llama2cShape shape;
    shape.shared_classifier = shared;
    testing::WriteRandomLlama2c(tmp / "m.bin", shape, 1);
    absl::StatusOr<Llama2cCheckpoint> ck = ReadLlama2cCheckpoint(tmp / "m.bin");
    ASSERT_TRUE(ck.ok()) << ck.status();
    EXPECT_EQ(ck->config.tie_embeddings, shared);
    EXPECT_EQ(ck->config.vocab_size, 64);
    EXPECT_EQ(ck->config.n_kv_heads, 2);
    EXPECT_EQ(ck->classifier.data() == ck->embedding.data(), shared);
    EXPECT_EQ(ck->classifier.size(), 64u * 32u);
  }
}

TEST(Llama2cCheckpointTest, ImportWritesAValidModelDirectory) {
  TempDir tmp;
  testing::Llama2cShape shape;
  shape.shared_classifier = false;
  testing::WriteRandomLlama2c(tmp / "m.bin", shape, 2);
  ASSERT_TRUE(ImportLlama2c(tmp / "m.bin", tmp / "out", {}).ok());
  absl::StatusOr<ModelDir> dir = OpenModelDir(tmp / "out");
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_FALSE(dir->config.tie_embeddings);
  EXPECT_TRUE(dir->tensors->Contains(kLmHeadName));
  EXPECT_EQ(dir->config.eos_token_ids, std::vector<int32_t>{1});
  EXPECT_EQ(dir->tokenizer, nullptr);
}

TEST(Llama2cCheckpointTest, PermutesRowsFromInterleavedToHalfSplit) {
  // One head of dim 4 with 1 column: interleaved rows (a0 b0 a1 b1) → (a0 a1 b0 b1).
  const std::vector<float> in = {10, 11, 20, 21, /*head 2*/ 30, 31, 40, 41};
  std::vector<float> out(8);
  InterleavedToHalfSplitRows(in, 2, 4, 1, out);
  EXPECT_EQ(out, (std::vector<float>{10, 20, 11, 21, 30, 40, 31, 41}));
}

class CorruptCheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WriteRandomLlama2c(tmp_ / "good.bin", {}, 3);
    bytes_ = ReadFileOrDie(tmp_ / "good.bin");
  }
  absl::Status Read(const std::string& bytes) {
    WriteFileOrDie(tmp_ / "bad.bin", bytes);
    return ReadLlama2cCheckpoint(tmp_ / "bad.bin").status();
  }
  std::string WithHeaderField(int index, int32_t value) {
    std::string b = bytes_;
    std::memcpy(b.data() + 4 * index, &value, 4);
    return b;
  }
  TempDir tmp_;
  std::string bytes_;
};

TEST_F(CorruptCheckpointTest, EmptyAndShortFiles) {
  EXPECT_THAT(std::string(Read("").message()), HasSubstr("too short"));
  EXPECT_THAT(std::string(Read(bytes_.substr(0, 27)).message()), HasSubstr("bad.bin"));
}

TEST_F(CorruptCheckpointTest, TruncatedWeights) {
  absl::Status s = Read(bytes_.substr(0, bytes_.size() - 4));
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), HasSubstr("truncated"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("bad.bin"));
}

TEST_F(CorruptCheckpointTest, TrailingBytes) {
  EXPECT_EQ(Read(bytes_ + "xx").code(), absl::StatusCode::kDataLoss);
}

TEST_F(CorruptCheckpointTest, HeaderThatLiesAboutSizes) {
  // A bigger vocabulary than the file holds.
  EXPECT_THAT(std::string(Read(WithHeaderField(5, 65)).message()), HasSubstr("bytes"));
  // A separate classifier that is not there.
  EXPECT_EQ(Read(WithHeaderField(5, -64)).code(), absl::StatusCode::kDataLoss);
}

TEST_F(CorruptCheckpointTest, ImpossibleHeaderFields) {
  EXPECT_THAT(std::string(Read(WithHeaderField(0, 0)).message()), HasSubstr("dim"));
  EXPECT_THAT(std::string(Read(WithHeaderField(2, -1)).message()), HasSubstr("n_layers"));
  EXPECT_THAT(std::string(Read(WithHeaderField(1, 1 << 30)).message()), HasSubstr("hidden_dim"));
  EXPECT_THAT(std::string(Read(WithHeaderField(4, 3)).message()), HasSubstr("num_key_value_heads"));
  EXPECT_THAT(std::string(Read(WithHeaderField(3, 5)).message()), HasSubstr("num_attention_heads"));
  EXPECT_THAT(std::string(Read(WithHeaderField(6, INT32_MIN)).message()), HasSubstr("seq_len"));
}

TEST_F(CorruptCheckpointTest, MissingFile) {
  absl::Status s = ReadLlama2cCheckpoint(tmp_ / "nope.bin").status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope.bin")));
}

TEST_F(CorruptCheckpointTest, ImportOfACorruptFileWritesNothing) {
  WriteFileOrDie(tmp_ / "bad.bin", bytes_.substr(0, 100));
  EXPECT_THAT(ImportLlama2c(tmp_ / "bad.bin", tmp_ / "out", {}),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("bad.bin: 100 bytes")));
  EXPECT_FALSE(std::filesystem::exists(tmp_ / "out" / "config.json"));
}

}  // namespace
}  // namespace accllm
