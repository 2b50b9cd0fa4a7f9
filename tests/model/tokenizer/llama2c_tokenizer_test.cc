#include "model/tokenizer/llama2c_tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"               // absl::StatusCode
#include "model/tokenizer/byte_piece.h"       // accllm::BytePieceName
#include "model/tokenizer/synthetic_vocab.h"  // accllm::BuildSyntheticVocab
#include "tests/support/status_matchers.h"
#include "tests/support/test_env.h"  // accllm::testing::TempDir, ReadFileOrDie, WriteFileOrDie

namespace accllm {
namespace {

using ::accllm::testing::StatusIs;
using ::testing::HasSubstr;

// <unk>, <s>, </s>, the 256 byte pieces, then `extra` with their scores.
Vocab SmallVocab(const std::vector<std::pair<std::string, float>>& extra) {
  Vocab v;
  v.pieces = {"<unk>", "\n<s>\n", "\n</s>\n"};  // llama2.c's export writes BOS/EOS like this
  v.scores = {0, 0, 0};
  for (int b = 0; b < 256; ++b) {
    v.pieces.push_back(BytePieceName(static_cast<uint8_t>(b)));
    v.scores.push_back(0);
  }
  for (const auto& [piece, score] : extra) {
    v.pieces.push_back(piece);
    v.scores.push_back(score);
  }
  return v;
}

int32_t IdOf(const Vocab& v, const std::string& piece) {
  for (size_t i = 0; i < v.pieces.size(); ++i) {
    if (v.pieces[i] == piece) return static_cast<int32_t>(i);
  }
  ADD_FAILURE() << "no piece " << piece;
  return -1;
}

std::unique_ptr<Llama2cTokenizer> MakeOrDie(const Vocab& v) {
  absl::StatusOr<std::unique_ptr<Llama2cTokenizer>> t =
      Llama2cTokenizer::Create(v.pieces, v.scores);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? std::move(*t) : nullptr;
}

// run.c's encode, transcribed literally (O(n²)), as the reference for the heap version.
std::vector<int32_t> ReferenceEncode(const Vocab& v, const std::string& text) {
  std::unordered_map<std::string, int32_t> first_id;  // run.c finds the first match
  for (size_t i = 0; i < v.pieces.size(); ++i) first_id.try_emplace(v.pieces[i], i);
  auto lookup = [&](const std::string& s) -> int32_t {
    auto it = first_id.find(s);
    return it == first_id.end() ? -1 : it->second;
  };
  std::vector<int32_t> tokens;
  if (!text.empty()) tokens.push_back(lookup(" "));
  std::string buf;
  for (size_t c = 0; c < text.size(); ++c) {
    if ((static_cast<uint8_t>(text[c]) & 0xC0) != 0x80) buf.clear();
    buf += text[c];
    const uint8_t next = c + 1 < text.size() ? static_cast<uint8_t>(text[c + 1]) : 0;
    if ((next & 0xC0) == 0x80 && buf.size() < 4) continue;
    const int32_t id = lookup(buf);
    if (id != -1) {
      tokens.push_back(id);
    } else {
      for (char b : buf) tokens.push_back(static_cast<uint8_t>(b) + 3);
    }
    buf.clear();
  }
  while (true) {
    float best_score = -1e10f;
    int32_t best_id = -1;
    int best_idx = -1;
    for (int i = 0; i + 1 < static_cast<int>(tokens.size()); ++i) {
      const int32_t id = lookup(v.pieces[tokens[i]] + v.pieces[tokens[i + 1]]);
      if (id != -1 && v.scores[id] > best_score) {
        best_score = v.scores[id];
        best_id = id;
        best_idx = i;
      }
    }
    if (best_idx == -1) break;
    tokens[best_idx] = best_id;
    tokens.erase(tokens.begin() + best_idx + 1);
  }
  return tokens;
}

TEST(Llama2cTokenizerTest, HandCheckedMerges) {
  // "bc" outscores "ab", so "abc" becomes " a" + "bc", never "ab" + "c".
  const Vocab v = SmallVocab({{" ", -100},
                              {"a", -100},
                              {"b", -100},
                              {"c", -100},
                              {"ab", -2},
                              {"bc", -1},
                              {" a", -3},
                              {"abc", -50}});
  std::unique_ptr<Llama2cTokenizer> t = MakeOrDie(v);
  ASSERT_NE(t, nullptr);
  // Steps: [" ","a","b","c"] -> bc(-1) -> [" ","a","bc"] -> " a"(-3) beats "abc"(-50)
  // -> [" a","bc"]; " abc" is not a piece, so it stops.
  absl::StatusOr<std::vector<int32_t>> ids = t->Encode("abc", /*add_bos=*/false);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(*ids, (std::vector<int32_t>{IdOf(v, " a"), IdOf(v, "bc")}));
  EXPECT_EQ(*ids, ReferenceEncode(v, "abc"));

  ids = t->Encode("abc", /*add_bos=*/true);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<int32_t>{1, IdOf(v, " a"), IdOf(v, "bc")}));
}

TEST(Llama2cTokenizerTest, EqualScoresMergeLeftmostFirst) {
  const Vocab v = SmallVocab({{" ", 0}, {"a", 0}, {"aa", -1}, {"aaa", -0.5f}});
  std::unique_ptr<Llama2cTokenizer> t = MakeOrDie(v);
  ASSERT_NE(t, nullptr);
  // [" ",a,a,a,a,a]: "aa" at 1 (leftmost of equals) -> [" ",aa,a,a,a]; "aaa"(-0.5)
  // beats "aa" -> [" ",aaa,a,a]; then "aa" -> [" ",aaa,aa].
  absl::StatusOr<std::vector<int32_t>> ids = t->Encode("aaaaa", false);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<int32_t>{IdOf(v, " "), IdOf(v, "aaa"), IdOf(v, "aa")}));
  EXPECT_EQ(*ids, ReferenceEncode(v, "aaaaa"));
}

TEST(Llama2cTokenizerTest, CodePointsAndByteFallback) {
  const Vocab v = SmallVocab({{" ", 0}, {"h", 0}, {"l", 0}, {"o", 0}, {"é", 0}});
  std::unique_ptr<Llama2cTokenizer> t = MakeOrDie(v);
  ASSERT_NE(t, nullptr);
  // "é" is a piece: one token. "🦙" (F0 9F A6 99) is not: four byte tokens.
  absl::StatusOr<std::vector<int32_t>> ids = t->Encode("hé🦙", false);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<int32_t>{IdOf(v, " "), IdOf(v, "h"), IdOf(v, "é"), 0xF0 + 3,
                                        0x9F + 3, 0xA6 + 3, 0x99 + 3}));
  absl::StatusOr<std::string> text = t->Decode(*ids);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "hé🦙");
  // Invalid UTF-8 (a stray continuation byte, a truncated sequence) still round-trips.
  const std::string invalid("\x80o\xC3", 3);
  ids = t->Encode(invalid, false);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, ReferenceEncode(v, invalid));
  text = t->Decode(*ids);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, invalid);
}

TEST(Llama2cTokenizerTest, DecodeFollowsRunC) {
  const Vocab v = SmallVocab({{" hello", 0}, {"world", 0}, {" ", 0}});
  std::unique_ptr<Llama2cTokenizer> t = MakeOrDie(v);
  ASSERT_NE(t, nullptr);
  const int32_t hello = IdOf(v, " hello");
  auto decode = [&](int32_t prev, int32_t id) {
    absl::StatusOr<std::string> s = t->DecodeToken(prev, id);
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : "<error>";
  };
  EXPECT_EQ(decode(1, hello), "hello");  // after BOS the leading space goes
  EXPECT_EQ(decode(7, hello), " hello");
  EXPECT_EQ(decode(7, 3 + 'A'), "A");  // <0x41>
  EXPECT_EQ(decode(7, 3), std::string(1, '\0'));
  EXPECT_EQ(decode(7, 3 + 0xFF), "\xFF");
  EXPECT_EQ(decode(7, 0), "");  // <unk>, BOS and EOS are invisible
  EXPECT_EQ(decode(7, 1), "");
  EXPECT_EQ(decode(7, 2), "");

  const int32_t n = t->vocab_size();
  for (int32_t id : {-1, n, std::numeric_limits<int32_t>::max()}) {
    EXPECT_EQ(t->DecodeToken(1, id).status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(t->Decode(std::vector<int32_t>{hello, n}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(Llama2cTokenizerTest, EmptyTextHasNoDummyPrefix) {
  std::unique_ptr<Llama2cTokenizer> t = MakeOrDie(SmallVocab({{" ", 0}}));
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(*t->Encode("", false), std::vector<int32_t>{});
  EXPECT_EQ(*t->Encode("", true), std::vector<int32_t>{1});
}

TEST(Llama2cTokenizerTest, MatchesRunCOnRandomText) {
  absl::StatusOr<Vocab> v = BuildSyntheticVocab(1000);
  ASSERT_TRUE(v.ok());
  std::unique_ptr<Llama2cTokenizer> t = MakeOrDie(*v);
  ASSERT_NE(t, nullptr);
  std::mt19937 rng(7);
  const std::string alphabet = "aeiou tnshrdl  the and ing,.!é🦙\n";
  for (int round = 0; round < 200; ++round) {
    std::string text;
    const int len = static_cast<int>(rng() % 40);
    for (int i = 0; i < len; ++i) text += alphabet[rng() % alphabet.size()];  // bytes, any order
    absl::StatusOr<std::vector<int32_t>> ids = t->Encode(text, false);
    ASSERT_TRUE(ids.ok()) << ids.status();
    EXPECT_EQ(*ids, ReferenceEncode(*v, text)) << "text: " << text;
    absl::StatusOr<std::string> back = t->Decode(*ids);
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, text);
  }
}

TEST(Llama2cTokenizerTest, NoBytePiecesMeansNoByteFallback) {
  absl::StatusOr<std::unique_ptr<Llama2cTokenizer>> t =
      Llama2cTokenizer::Create({"<unk>", "<s>", "</s>", " ", "a"}, {0, 0, 0, 0, 0});
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE((*t)->Encode("aa", false).ok());
  EXPECT_EQ((*t)->Encode("ab", false).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(Llama2cTokenizerTest, CreateValidates) {
  EXPECT_EQ(Llama2cTokenizer::Create({}, {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Llama2cTokenizer::Create({"a", "b"}, {0}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Llama2cTokenizer::Create({std::string(Llama2cTokenizer::kMaxPieceBytes + 1, 'x')}, {0})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

// --- tokenizer.bin files ---

// Builds a tokenizer.bin by hand, so tests can corrupt any field.
class BinWriter {
 public:
  BinWriter& I32(int32_t v) { return U32(static_cast<uint32_t>(v)); }
  BinWriter& F32(float v) { return U32(std::bit_cast<uint32_t>(v)); }
  BinWriter& Bytes(std::string_view s) {
    data_ += s;
    return *this;
  }
  BinWriter& Record(float score, std::string_view piece) {
    return F32(score).I32(static_cast<int32_t>(piece.size())).Bytes(piece);
  }
  const std::string& data() const { return data_; }

 private:
  BinWriter& U32(uint32_t v) {
    for (int i = 0; i < 4; ++i) data_ += static_cast<char>((v >> (8 * i)) & 0xFF);
    return *this;
  }
  std::string data_;
};

TEST(Llama2cTokenizerFileTest, WriteThenLoadRoundTrips) {
  testing::TempDir dir;
  const Vocab v = SmallVocab({{" ", -1}, {"a", -2.5f}, {"ab", 3.25f}, {"", 0}, {"x y", -1e9f}});
  ASSERT_TRUE(WriteLlama2cTokenizer(dir / "tokenizer.bin", v.pieces, v.scores).ok());
  absl::StatusOr<std::unique_ptr<Llama2cTokenizer>> t = LoadLlama2cTokenizer(dir / "tokenizer.bin");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ((*t)->kind(), "llama2c");
  EXPECT_EQ((*t)->vocab_size(), static_cast<int32_t>(v.pieces.size()));
  EXPECT_EQ((*t)->bos_id(), 1);
  EXPECT_EQ((*t)->eos_id(), 2);
  EXPECT_EQ((*t)->pieces(), v.pieces);
  EXPECT_EQ((*t)->scores(), v.scores);
  EXPECT_EQ((*t)->max_token_length(), 6);  // "<0x00>" and "\n</s>\n"

  // The layout is exactly llama2.c's.
  BinWriter expected;
  expected.I32(6);
  for (size_t i = 0; i < v.pieces.size(); ++i) expected.Record(v.scores[i], v.pieces[i]);
  EXPECT_EQ(testing::ReadFileOrDie(dir / "tokenizer.bin"), expected.data());

  absl::StatusOr<std::vector<int32_t>> ids = (*t)->Encode("ab ba", true);
  ASSERT_TRUE(ids.ok());
  absl::StatusOr<std::string> text = (*t)->Decode(*ids);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "ab ba");
}

TEST(Llama2cTokenizerFileTest, WriterValidates) {
  testing::TempDir dir;
  EXPECT_EQ(WriteLlama2cTokenizer(dir / "a.bin", {}, {}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(WriteLlama2cTokenizer(dir / "a.bin", {"a"}, {0, 1}).code(),
            absl::StatusCode::kInvalidArgument);
  const absl::Status missing_dir = WriteLlama2cTokenizer(dir / "no" / "a.bin", {"a"}, {0});
  EXPECT_THAT(missing_dir,
              StatusIs(absl::StatusCode::kNotFound, HasSubstr((dir / "no" / "a.bin").string())));
}

TEST(Llama2cTokenizerFileTest, MissingFileIsNotFound) {
  testing::TempDir dir;
  EXPECT_EQ(LoadLlama2cTokenizer(dir / "tokenizer.bin").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(Llama2cTokenizerFileTest, EveryTruncationIsAnErrorOrAShorterVocabulary) {
  testing::TempDir dir;
  BinWriter w;
  w.I32(5).Record(0, "<unk>").Record(-1, "ab").Record(-2, "").Record(-3, "hello");
  const std::string& data = w.data();
  // Offsets where a record ends: cutting there leaves a valid, shorter file.
  const std::vector<size_t> boundaries = {4 + 8 + 5, 4 + 8 + 5 + 8 + 2, 4 + 8 + 5 + 8 + 2 + 8};
  const std::filesystem::path path = dir / "tokenizer.bin";
  for (size_t cut = 0; cut < data.size(); ++cut) {
    testing::WriteFileOrDie(path, data.substr(0, cut));
    absl::StatusOr<std::unique_ptr<Llama2cTokenizer>> t = LoadLlama2cTokenizer(path);
    const auto boundary = std::find(boundaries.begin(), boundaries.end(), cut);
    if (boundary != boundaries.end()) {
      ASSERT_TRUE(t.ok()) << "cut at " << cut << ": " << t.status();
      EXPECT_EQ((*t)->vocab_size(), boundary - boundaries.begin() + 1);
      continue;
    }
    EXPECT_EQ(t.status().code(), absl::StatusCode::kDataLoss) << "cut at " << cut;
    EXPECT_THAT(t.status().message(), HasSubstr(path.string())) << "cut at " << cut;
    if (cut > 4) {
      EXPECT_THAT(t.status().message(), HasSubstr("record")) << "cut at " << cut;
    }
  }
}

TEST(Llama2cTokenizerFileTest, HostileFieldsAreDataLoss) {
  struct Case {
    std::string name;
    std::string data;
    std::string message;  // expected in the error
  };
  const std::vector<Case> cases = {
      {"negative max_token_length", BinWriter().I32(-1).Record(0, "a").data(), "max_token_length"},
      {"huge max_token_length", BinWriter().I32(1 << 30).Record(0, "a").data(), "max_token_length"},
      {"negative length", BinWriter().I32(4).Record(0, "a").F32(0).I32(-5).data(), "record 1"},
      {"huge length",
       BinWriter().I32(4).Record(0, "a").F32(0).I32(std::numeric_limits<int32_t>::max()).data(),
       "record 1"},
      {"length over max_token_length", BinWriter().I32(2).Record(0, "a").Record(0, "abc").data(),
       "record 1"},
      {"length past the end", BinWriter().I32(8).Record(0, "a").F32(0).I32(8).Bytes("abc").data(),
       "record 1"},
      {"trailing garbage", BinWriter().I32(4).Record(0, "a").Record(0, "b").Bytes("xyz").data(),
       "record 2"},
      {"no tokens", BinWriter().I32(4).data(), "no tokens"},
      {"short header", std::string("\x01\x00", 2), "max_token_length"},
  };
  testing::TempDir dir;
  for (const Case& c : cases) {
    const std::filesystem::path path = dir / "tokenizer.bin";
    testing::WriteFileOrDie(path, c.data);
    absl::StatusOr<std::unique_ptr<Llama2cTokenizer>> t = LoadLlama2cTokenizer(path);
    EXPECT_EQ(t.status().code(), absl::StatusCode::kDataLoss) << c.name;
    EXPECT_THAT(t.status().message(), HasSubstr(path.string())) << c.name;
    EXPECT_THAT(t.status().message(), HasSubstr(c.message)) << c.name;
  }
}

TEST(Llama2cTokenizerFileTest, RandomBytesNeverCrash) {
  testing::TempDir dir;
  std::mt19937 rng(11);
  const std::filesystem::path path = dir / "tokenizer.bin";
  for (int round = 0; round < 300; ++round) {
    std::string data(rng() % 64, '\0');
    for (char& c : data) c = static_cast<char>(rng() % 4 == 0 ? rng() : rng() % 8);
    testing::WriteFileOrDie(path, data);
    absl::StatusOr<std::unique_ptr<Llama2cTokenizer>> t = LoadLlama2cTokenizer(path);
    if (t.ok()) {
      (void)(*t)->Encode("some text", true);
      for (int32_t id = 0; id < (*t)->vocab_size(); ++id) (void)(*t)->DecodeToken(1, id);
    } else {
      EXPECT_EQ(t.status().code(), absl::StatusCode::kDataLoss);
    }
  }
}

}  // namespace
}  // namespace accllm
