// LoadTokenizerFromDir: which file a model directory's tokenizer comes from.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "absl/status/status.h"                 // absl::StatusCode
#include "model/tokenizer/llama2c_tokenizer.h"  // accllm::WriteLlama2cTokenizer
#include "model/tokenizer/synthetic_vocab.h"    // accllm::BuildSyntheticVocab
#include "model/tokenizer/tokenizer.h"          // accllm::LoadTokenizerFromDir
#include "tests/model/tokenizer/sentencepiece_training.h"
#include "tests/support/test_env.h"  // accllm::testing::TempDir, WriteFileOrDie

namespace accllm {
namespace {

using ::testing::HasSubstr;

void WriteSyntheticBin(const std::filesystem::path& path) {
  absl::StatusOr<Vocab> v = BuildSyntheticVocab(300);
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(WriteLlama2cTokenizer(path, v->pieces, v->scores).ok());
}

void CopySentencePieceModel(const std::filesystem::path& to) {
  std::string error;
  const std::filesystem::path model = testing::SharedSentencePieceModel(&error);
  ASSERT_FALSE(model.empty()) << error;
  std::filesystem::copy_file(model, to);
}

TEST(LoadTokenizerFromDirTest, EmptyDirectoryIsNotFoundNamingIt) {
  testing::TempDir dir;
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = LoadTokenizerFromDir(dir.path());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(t.status().message(), HasSubstr(dir.path().string()));
  EXPECT_THAT(t.status().message(), HasSubstr("tokenizer.model"));
  EXPECT_THAT(t.status().message(), HasSubstr("tokenizer.bin"));
}

TEST(LoadTokenizerFromDirTest, MissingDirectoryIsNotFound) {
  testing::TempDir dir;
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = LoadTokenizerFromDir(dir / "nope");
  EXPECT_EQ(t.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(t.status().message(), HasSubstr((dir / "nope").string()));
}

TEST(LoadTokenizerFromDirTest, TokenizerBinAlone) {
  testing::TempDir dir;
  WriteSyntheticBin(dir / "tokenizer.bin");
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = LoadTokenizerFromDir(dir.path());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->kind(), "llama2c");
  EXPECT_EQ((*t)->vocab_size(), 300);
}

TEST(LoadTokenizerFromDirTest, TokenizerModelAlone) {
  testing::TempDir dir;
  CopySentencePieceModel(dir / "tokenizer.model");
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = LoadTokenizerFromDir(dir.path());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->kind(), "sentencepiece");
}

TEST(LoadTokenizerFromDirTest, PrefersTokenizerModel) {
  testing::TempDir dir;
  WriteSyntheticBin(dir / "tokenizer.bin");
  CopySentencePieceModel(dir / "tokenizer.model");
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = LoadTokenizerFromDir(dir.path());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->kind(), "sentencepiece");
  EXPECT_EQ((*t)->vocab_size(), testing::kSharedModelVocabSize);
}

TEST(LoadTokenizerFromDirTest, BrokenPreferredFileIsAnErrorNotAFallback) {
  testing::TempDir dir;
  WriteSyntheticBin(dir / "tokenizer.bin");
  testing::WriteFileOrDie(dir / "tokenizer.model", "not a model");
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = LoadTokenizerFromDir(dir.path());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(t.status().message(), HasSubstr((dir / "tokenizer.model").string()));
}

TEST(LoadTokenizerFromDirTest, BrokenTokenizerBinIsDataLoss) {
  testing::TempDir dir;
  testing::WriteFileOrDie(dir / "tokenizer.bin", std::string("\x04\x00\x00\x00\x01", 5));
  absl::StatusOr<std::unique_ptr<Tokenizer>> t = LoadTokenizerFromDir(dir.path());
  EXPECT_EQ(t.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(t.status().message(), HasSubstr((dir / "tokenizer.bin").string()));
}

}  // namespace
}  // namespace accllm
