#include "model/tokenizer/synthetic_vocab.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/status/status.h"                 // absl::StatusCode
#include "model/tokenizer/byte_piece.h"         // accllm::BytePieceName
#include "model/tokenizer/llama2c_tokenizer.h"  // accllm::Llama2cTokenizer
#include "tests/support/test_env.h"             // accllm::testing::TempDir

namespace accllm {
namespace {

const std::vector<std::string>& Texts() {
  static const std::vector<std::string> texts = {
      "Once upon a time, there was a little girl named Lily.",
      "She liked to play with her friends in the park!",
      "The dog's ball wasn't red; it was blue (and big).",
      "Numbers 0123456789 and symbols ~!@#$%^&*()_+{}|:\"<>?",
      "  leading spaces and trailing  ",
      std::string("tabs\tnewlines\n\r\nand NUL \0 bytes", 31),
      "héllo wörld, naïve café",
      "emoji 🦙🔥❤️ and 日本語",
      "<s> and </s> and <0x41> are text here",
      "",
  };
  return texts;
}

TEST(SyntheticVocabTest, ExactUniqueAndDeterministic) {
  for (int32_t size : {259, 260, 354, 512, 4096, 32000, 128256}) {
    absl::StatusOr<Vocab> v = BuildSyntheticVocab(size);
    ASSERT_TRUE(v.ok()) << v.status();
    ASSERT_EQ(v->pieces.size(), static_cast<size_t>(size));
    ASSERT_EQ(v->scores.size(), static_cast<size_t>(size));
    std::unordered_set<std::string> unique(v->pieces.begin(), v->pieces.end());
    EXPECT_EQ(unique.size(), static_cast<size_t>(size)) << size;
    EXPECT_EQ(unique.count(""), 0u);

    EXPECT_EQ(v->pieces[0], "<unk>");
    EXPECT_EQ(v->pieces[1], "<s>");
    EXPECT_EQ(v->pieces[2], "</s>");
    for (int b = 0; b < 256; ++b) {
      ASSERT_EQ(v->pieces[3 + b], BytePieceName(static_cast<uint8_t>(b)));
    }
    if (size > 259) {
      EXPECT_EQ(v->pieces[259], " ");
    }

    absl::StatusOr<Vocab> again = BuildSyntheticVocab(size);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->pieces, v->pieces);
    EXPECT_EQ(again->scores, v->scores);
  }
}

TEST(SyntheticVocabTest, SmallerIsAPrefixOfLarger) {
  absl::StatusOr<Vocab> small = BuildSyntheticVocab(1000);
  absl::StatusOr<Vocab> large = BuildSyntheticVocab(128256);
  ASSERT_TRUE(small.ok() && large.ok());
  for (size_t i = 0; i < small->pieces.size(); ++i) {
    ASSERT_EQ(small->pieces[i], large->pieces[i]) << i;
    ASSERT_EQ(small->scores[i], large->scores[i]) << i;
  }
}

TEST(SyntheticVocabTest, EveryLongPieceIsTwoEarlierPiecesWithDescendingScores) {
  absl::StatusOr<Vocab> v = BuildSyntheticVocab(128256);
  ASSERT_TRUE(v.ok());
  std::unordered_map<std::string, size_t> id;
  float last_score = 0;
  for (size_t i = 0; i < v->pieces.size(); ++i) {
    const std::string& p = v->pieces[i];
    if (i >= 259 && p.size() > 1) {
      bool found = false;
      for (size_t k = 1; k < p.size() && !found; ++k) {
        found = id.contains(p.substr(0, k)) && id.contains(p.substr(k));
      }
      ASSERT_TRUE(found) << "piece " << i << " '" << p << "' is not two earlier pieces";
      ASSERT_LT(v->scores[i], last_score) << i;  // later merges score lower
      last_score = v->scores[i];
      // No inner spaces: merges never cross a word boundary.
      ASSERT_EQ(p.find(' ', 1), std::string::npos) << p;
    }
    id.emplace(p, i);
  }
}

TEST(SyntheticVocabTest, RejectsSizesOutOfRange) {
  for (int32_t size : {-1, 0, 3, 258, kMaxSyntheticVocabSize + 1}) {
    EXPECT_EQ(BuildSyntheticVocab(size).status().code(), absl::StatusCode::kInvalidArgument)
        << size;
  }
}

TEST(SyntheticVocabTest, TextRoundTripsThroughLlama2cTokenizer) {
  for (int32_t size : {259, 512, 32000, 128256}) {
    absl::StatusOr<Vocab> v = BuildSyntheticVocab(size);
    ASSERT_TRUE(v.ok());
    absl::StatusOr<std::unique_ptr<Llama2cTokenizer>> t =
        Llama2cTokenizer::Create(v->pieces, v->scores);
    ASSERT_TRUE(t.ok()) << t.status();
    for (const std::string& text : Texts()) {
      for (bool bos : {false, true}) {
        absl::StatusOr<std::vector<int32_t>> ids = (*t)->Encode(text, bos);
        ASSERT_TRUE(ids.ok()) << ids.status();
        for (int32_t id : *ids) ASSERT_LT(id, size);
        absl::StatusOr<std::string> back = (*t)->Decode(*ids);
        ASSERT_TRUE(back.ok()) << back.status();
        EXPECT_EQ(*back, text) << "size " << size;
      }
    }
  }
}

TEST(SyntheticVocabTest, CommonWordsBecomeSingleTokens) {
  absl::StatusOr<Vocab> v = BuildSyntheticVocab(32000);
  ASSERT_TRUE(v.ok());
  absl::StatusOr<std::unique_ptr<Llama2cTokenizer>> t =
      Llama2cTokenizer::Create(v->pieces, v->scores);
  ASSERT_TRUE(t.ok());
  auto id_of = [&](const std::string& piece) {
    return static_cast<int32_t>(std::find(v->pieces.begin(), v->pieces.end(), piece) -
                                v->pieces.begin());
  };
  absl::StatusOr<std::vector<int32_t>> ids = (*t)->Encode("Once upon a time the girl played", true);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids,
            (std::vector<int32_t>{1, id_of(" Once"), id_of(" upon"), id_of(" a"), id_of(" time"),
                                  id_of(" the"), id_of(" girl"), id_of(" played")}));
  // Byte fallback for what is not ASCII: "é" is C3 A9.
  ids = (*t)->Encode("é", false);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<int32_t>{id_of(" "), 0xC3 + 3, 0xA9 + 3}));
}

TEST(SyntheticVocabTest, WritesALoadableTokenizerBin) {
  absl::StatusOr<Vocab> v = BuildSyntheticVocab(512);
  ASSERT_TRUE(v.ok());
  testing::TempDir dir;
  ASSERT_TRUE(WriteLlama2cTokenizer(dir / "tokenizer.bin", v->pieces, v->scores).ok());
  absl::StatusOr<std::unique_ptr<Llama2cTokenizer>> t = LoadLlama2cTokenizer(dir / "tokenizer.bin");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->pieces(), v->pieces);
  EXPECT_EQ((*t)->scores(), v->scores);
}

}  // namespace
}  // namespace accllm
