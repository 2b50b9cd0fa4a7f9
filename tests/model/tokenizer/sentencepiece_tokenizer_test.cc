#include "model/tokenizer/sentencepiece_tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/status.h"                     // absl::StatusCode
#include "model/tokenizer/byte_piece.h"             // accllm::ParseBytePiece
#include "model/tokenizer/sentencepiece_backend.h"  // accllm::SentencePieceBackend
#include "tests/model/tokenizer/sentencepiece_training.h"
#include "tests/support/test_env.h"  // accllm::testing::TempDir, ReadFileOrDie, WriteFileOrDie

namespace accllm {
namespace {

using ::testing::HasSubstr;

// Texts that must survive Encode -> Decode unchanged.
const std::vector<std::string>& RoundTripTexts() {
  static const std::vector<std::string> texts = {
      "The little girl saw a red ball in the park.",
      "Tom helped his friend again!",
      "It cost 1234 coins.",
      "  two leading spaces,  and  double  spaces ",
      "tabs\tand\nnewlines\n",
      "héllo wörld, café naïve",
      "emoji: 🦙🔥 ❤️ and 日本語のテキスト",
      "a",
      " ",
  };
  return texts;
}

class SentencePieceTokenizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    model_path_ = testing::SharedSentencePieceModel(&error);
    ASSERT_FALSE(model_path_.empty()) << error;
    absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = LoadSentencePieceTokenizer(model_path_);
    ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
    tokenizer_ = std::move(*tokenizer);
  }

  // Streaming: what a server sends, one DecodeToken per generated id.
  std::string StreamDecode(const std::vector<int32_t>& ids) {
    std::string text;
    int32_t prev = tokenizer_->bos_id();
    for (int32_t id : ids) {
      absl::StatusOr<std::string> piece = tokenizer_->DecodeToken(prev, id);
      EXPECT_TRUE(piece.ok()) << piece.status();
      if (piece.ok()) text += *piece;
      prev = id;
    }
    return text;
  }

  std::filesystem::path model_path_;
  std::unique_ptr<Tokenizer> tokenizer_;
};

TEST_F(SentencePieceTokenizerTest, Properties) {
  EXPECT_EQ(tokenizer_->kind(), "sentencepiece");
  EXPECT_EQ(tokenizer_->vocab_size(), testing::kSharedModelVocabSize);
  EXPECT_EQ(tokenizer_->bos_id(), 1);
  EXPECT_EQ(tokenizer_->eos_id(), 2);
}

TEST_F(SentencePieceTokenizerTest, RoundTripsText) {
  for (const std::string& text : RoundTripTexts()) {
    absl::StatusOr<std::vector<int32_t>> ids = tokenizer_->Encode(text, /*add_bos=*/false);
    ASSERT_TRUE(ids.ok()) << ids.status();
    EXPECT_FALSE(ids->empty());
    absl::StatusOr<std::string> decoded = tokenizer_->Decode(*ids);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, text);
  }
}

TEST_F(SentencePieceTokenizerTest, EncodesEmptyTextToNothing) {
  absl::StatusOr<std::vector<int32_t>> ids = tokenizer_->Encode("", /*add_bos=*/false);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_TRUE(ids->empty());
  ids = tokenizer_->Encode("", /*add_bos=*/true);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, std::vector<int32_t>{1});
}

TEST_F(SentencePieceTokenizerTest, BosIsPrependedAndDecodesToNothing) {
  absl::StatusOr<std::vector<int32_t>> with_bos = tokenizer_->Encode("Lily ate a cake.", true);
  absl::StatusOr<std::vector<int32_t>> without = tokenizer_->Encode("Lily ate a cake.", false);
  ASSERT_TRUE(with_bos.ok() && without.ok());
  ASSERT_EQ(with_bos->size(), without->size() + 1);
  EXPECT_EQ(with_bos->front(), tokenizer_->bos_id());
  EXPECT_TRUE(std::equal(without->begin(), without->end(), with_bos->begin() + 1));
  absl::StatusOr<std::string> decoded = tokenizer_->Decode(*with_bos);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, "Lily ate a cake.");
}

TEST_F(SentencePieceTokenizerTest, UnknownCharactersUseBytePieces) {
  absl::StatusOr<std::vector<int32_t>> ids = tokenizer_->Encode("🦙", false);
  ASSERT_TRUE(ids.ok());
  // The llama emoji is F0 9F A6 99, never seen in training: four byte pieces
  // (after the dummy-prefix piece).
  const std::vector<int32_t> bytes = {0xF0 + 3, 0x9F + 3, 0xA6 + 3, 0x99 + 3};
  ASSERT_GE(ids->size(), bytes.size());
  EXPECT_TRUE(std::equal(bytes.begin(), bytes.end(), ids->end() - bytes.size()));
  for (int32_t id : bytes) {
    absl::StatusOr<std::string> piece = tokenizer_->DecodeToken(/*prev=*/100, id);
    ASSERT_TRUE(piece.ok());
    EXPECT_EQ(*piece, std::string(1, static_cast<char>(id - 3)));
  }
}

TEST_F(SentencePieceTokenizerTest, StreamingMatchesWholeDecodeAndSentencePiece) {
  std::unique_ptr<SentencePieceBackend> reference_owner = SentencePieceBackend::Create(nullptr);
  ASSERT_NE(reference_owner, nullptr);
  SentencePieceBackend& reference = *reference_owner;
  std::string error;
  ASSERT_TRUE(reference.Load(model_path_.string(), &error)) << error;
  for (const std::string& text : RoundTripTexts()) {
    absl::StatusOr<std::vector<int32_t>> ids = tokenizer_->Encode(text, /*add_bos=*/true);
    ASSERT_TRUE(ids.ok());
    absl::StatusOr<std::string> whole = tokenizer_->Decode(*ids);
    ASSERT_TRUE(whole.ok());
    EXPECT_EQ(StreamDecode(*ids), *whole);
    std::string expected;
    ASSERT_TRUE(reference.Decode(std::vector<int>(ids->begin(), ids->end()), &expected, &error))
        << error;
    EXPECT_EQ(*whole, expected) << "for " << text;
  }
}

TEST_F(SentencePieceTokenizerTest, LeadingSpaceIsDroppedOnlyAfterBos) {
  absl::StatusOr<std::vector<int32_t>> ids = tokenizer_->Encode("the", false);
  ASSERT_TRUE(ids.ok());
  ASSERT_FALSE(ids->empty());
  absl::StatusOr<std::string> after_bos = tokenizer_->DecodeToken(tokenizer_->bos_id(), ids->at(0));
  absl::StatusOr<std::string> mid_text = tokenizer_->DecodeToken(/*prev=*/300, ids->at(0));
  ASSERT_TRUE(after_bos.ok() && mid_text.ok());
  EXPECT_EQ(" " + *after_bos, *mid_text);
  EXPECT_TRUE(mid_text->starts_with(" "));
}

TEST_F(SentencePieceTokenizerTest, EveryPieceDecodesByItsKind) {
  std::unique_ptr<SentencePieceBackend> reference_owner = SentencePieceBackend::Create(nullptr);
  ASSERT_NE(reference_owner, nullptr);
  SentencePieceBackend& reference = *reference_owner;
  std::string error;
  ASSERT_TRUE(reference.Load(model_path_.string(), &error)) << error;
  for (int32_t id = 0; id < tokenizer_->vocab_size(); ++id) {
    absl::StatusOr<std::string> text = tokenizer_->DecodeToken(/*prev=*/-7, id);
    ASSERT_TRUE(text.ok()) << text.status();
    switch (reference.GetPieceKind(id)) {
      case SentencePieceBackend::PieceKind::kControl:
      case SentencePieceBackend::PieceKind::kUnknown:
        EXPECT_EQ(*text, "") << id;
        break;
      case SentencePieceBackend::PieceKind::kByte:
        EXPECT_EQ(*text,
                  std::string(1, static_cast<char>(*ParseBytePiece(reference.IdToPiece(id)))));
        break;
      default:
        EXPECT_THAT(*text, ::testing::Not(HasSubstr("\xE2\x96\x81"))) << "U+2581 in " << id;
        EXPECT_FALSE(text->empty()) << id;
    }
  }
}

TEST_F(SentencePieceTokenizerTest, OutOfRangeIdsAreErrors) {
  const int32_t n = tokenizer_->vocab_size();
  for (int32_t id : {-1, n, n + 1000, std::numeric_limits<int32_t>::max(),
                     std::numeric_limits<int32_t>::min()}) {
    absl::StatusOr<std::string> text = tokenizer_->DecodeToken(1, id);
    EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument) << id;
  }
  const std::vector<int32_t> ids = {5, 6, n};
  EXPECT_EQ(tokenizer_->Decode(ids).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SentencePieceTokenizerLoadTest, MissingFileIsNotFound) {
  testing::TempDir dir;
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer =
      LoadSentencePieceTokenizer(dir / "tokenizer.model");
  EXPECT_EQ(tokenizer.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(tokenizer.status().message(), HasSubstr((dir / "tokenizer.model").string()));
}

TEST(SentencePieceTokenizerLoadTest, MalformedFilesAreDataLossNamingTheFile) {
  std::string error;
  const std::filesystem::path good = testing::SharedSentencePieceModel(&error);
  ASSERT_FALSE(good.empty()) << error;
  const std::string bytes = testing::ReadFileOrDie(good);
  ASSERT_GT(bytes.size(), 100u);

  testing::TempDir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"garbage", "this is not a sentencepiece model at all"},
      {"empty", ""},
      {"truncated", bytes.substr(0, bytes.size() / 2 + 3)},
      {"binary", std::string("\xff\xff\xff\xff\x0f\x01\x02", 7)},
  };
  for (const auto& [name, content] : cases) {
    const std::filesystem::path path = dir / (name + ".model");
    testing::WriteFileOrDie(path, content);
    absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = LoadSentencePieceTokenizer(path);
    EXPECT_EQ(tokenizer.status().code(), absl::StatusCode::kDataLoss) << name;
    EXPECT_THAT(tokenizer.status().message(), HasSubstr(path.string())) << name;
  }
  // A directory in the file's place.
  std::filesystem::create_directory(dir / "dir.model");
  EXPECT_EQ(LoadSentencePieceTokenizer(dir / "dir.model").status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace accllm
