// SentencePiece training for the tests, and tests of the raw backend.
//
// sentencepiece_trainer.h pulls in sentencepiece_processor.h, whose
// `namespace absl { using std::string_view; }` clashes with Abseil: this file
// must include no Abseil header, directly or through project headers.
#include "tests/model/tokenizer/sentencepiece_training.h"

#include <gtest/gtest.h>
#include <sentencepiece_trainer.h>  // sentencepiece::SentencePieceTrainer

#include <cstdint>
#include <fstream>
#include <memory>

#include "model/tokenizer/sentencepiece_backend.h"  // accllm::SentencePieceBackend
#include "tests/support/test_env.h"                 // accllm::testing::TempDir

namespace accllm::testing {

std::vector<std::string> GenerateEnglishCorpus(int lines) {
  static const char* const kSubjects[] = {"The little girl", "A big dog",  "Tom", "Lily",
                                          "The old man",     "My friend",  "She", "They",
                                          "The happy cat",   "Our teacher"};
  static const char* const kVerbs[] = {"saw",       "wanted", "found", "played with", "liked",
                                       "looked at", "helped", "made",  "ate",         "took"};
  static const char* const kObjects[] = {
      "a red ball",  "the green tree", "some water",  "a small box", "the blue sky",
      "his new toy", "a cake",         "the flowers", "a book",      "the garden"};
  static const char* const kEndings[] = {".",
                                         "!",
                                         " in the park.",
                                         " at home.",
                                         " every day.",
                                         " after school.",
                                         " again.",
                                         " at the café.",
                                         " because it was fun.",
                                         "?"};
  uint32_t state = 12345;  // a fixed LCG: the corpus, and so the model, is deterministic
  auto next = [&state](uint32_t n) {
    state = state * 1664525u + 1013904223u;
    return (state >> 16) % n;
  };
  std::vector<std::string> corpus;
  corpus.reserve(lines);
  for (int i = 0; i < lines; ++i) {
    std::string line = std::string(kSubjects[next(10)]) + " " + kVerbs[next(10)] + " " +
                       kObjects[next(10)] + kEndings[next(10)];
    if (i % 7 == 0) line += " It cost " + std::to_string(next(1000)) + " coins.";
    if (i % 11 == 0) line += " The naïve cat said \"thank you\".";
    corpus.push_back(std::move(line));
  }
  return corpus;
}

bool TrainSentencePieceModel(const std::filesystem::path& model_path, int vocab_size,
                             std::string* error) {
  if (model_path.extension() != ".model") {
    *error = "model path must end in .model: " + model_path.string();
    return false;
  }
  const std::filesystem::path corpus_path = model_path.parent_path() / "corpus.txt";
  {
    std::ofstream corpus(corpus_path);
    for (const std::string& line : GenerateEnglishCorpus(400)) corpus << line << "\n";
    if (!corpus.good()) {
      *error = "cannot write " + corpus_path.string();
      return false;
    }
  }
  std::filesystem::path prefix = model_path;
  prefix.replace_extension();
  const std::string args = "--input=" + corpus_path.string() +
                           " --model_prefix=" + prefix.string() +
                           " --model_type=bpe --vocab_size=" + std::to_string(vocab_size) +
                           " --byte_fallback=true --character_coverage=1.0"
                           " --normalization_rule_name=identity --remove_extra_whitespaces=false"
                           " --split_digits=true --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1"
                           " --num_threads=1 --minloglevel=2";
  const sentencepiece::util::Status status = sentencepiece::SentencePieceTrainer::Train(args);
  if (!status.ok()) {
    *error = "SentencePiece training failed: " + status.ToString();
    return false;
  }
  return true;
}

std::filesystem::path SharedSentencePieceModel(std::string* error) {
  struct Trained {
    TempDir dir;
    std::filesystem::path path;
    std::string error;
  };
  static const std::unique_ptr<Trained> trained = [] {
    auto t = std::make_unique<Trained>();
    const std::filesystem::path path = t->dir / "tokenizer.model";
    if (TrainSentencePieceModel(path, kSharedModelVocabSize, &t->error)) t->path = path;
    return t;
  }();
  *error = trained->error;
  return trained->path;
}

namespace {

using PieceKind = SentencePieceBackend::PieceKind;

TEST(SentencePieceTrainingTest, TrainedModelLoadsInTheBackend) {
  std::string error;
  const std::filesystem::path model = SharedSentencePieceModel(&error);
  ASSERT_FALSE(model.empty()) << error;

  std::unique_ptr<SentencePieceBackend> backend_owner = SentencePieceBackend::Create(nullptr);
  ASSERT_NE(backend_owner, nullptr);
  SentencePieceBackend& backend = *backend_owner;
  ASSERT_TRUE(backend.Load(model.string(), &error)) << error;
  EXPECT_EQ(backend.piece_size(), kSharedModelVocabSize);
  EXPECT_EQ(backend.unk_id(), 0);
  EXPECT_EQ(backend.bos_id(), 1);
  EXPECT_EQ(backend.eos_id(), 2);
  EXPECT_EQ(backend.pad_id(), -1);
  EXPECT_TRUE(backend.adds_dummy_prefix());
  EXPECT_EQ(backend.GetPieceKind(0), PieceKind::kUnknown);
  EXPECT_EQ(backend.GetPieceKind(1), PieceKind::kControl);
  EXPECT_EQ(backend.GetPieceKind(2), PieceKind::kControl);
  // Byte fallback puts <0x00>..<0xFF> right after the special pieces.
  EXPECT_EQ(backend.IdToPiece(3), "<0x00>");
  EXPECT_EQ(backend.GetPieceKind(3), PieceKind::kByte);
  EXPECT_EQ(backend.IdToPiece(258), "<0xFF>");
  EXPECT_EQ(backend.GetPieceKind(258), PieceKind::kByte);
  EXPECT_EQ(backend.GetPieceKind(300), PieceKind::kNormal);
}

TEST(SentencePieceTrainingTest, BackendEncodeDecodeRoundTrip) {
  std::string error;
  const std::filesystem::path model = SharedSentencePieceModel(&error);
  ASSERT_FALSE(model.empty()) << error;
  std::unique_ptr<SentencePieceBackend> backend_owner = SentencePieceBackend::Create(nullptr);
  ASSERT_NE(backend_owner, nullptr);
  SentencePieceBackend& backend = *backend_owner;
  ASSERT_TRUE(backend.Load(model.string(), &error)) << error;

  for (const std::string text : {"The little girl saw a red ball.", "héllo 🦙", ""}) {
    std::vector<int> ids;
    ASSERT_TRUE(backend.Encode(text, &ids, &error)) << error;
    std::string decoded;
    ASSERT_TRUE(backend.Decode(ids, &decoded, &error)) << error;
    EXPECT_EQ(decoded, text);
  }
}

TEST(SentencePieceTrainingTest, BackendRejectsGarbage) {
  std::unique_ptr<SentencePieceBackend> backend_owner = SentencePieceBackend::Create(nullptr);
  ASSERT_NE(backend_owner, nullptr);
  SentencePieceBackend& backend = *backend_owner;
  std::string error;
  EXPECT_FALSE(backend.LoadFromSerializedProto("this is not a model", &error));
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(backend.piece_size(), 0);
  EXPECT_EQ(backend.bos_id(), -1);
  std::vector<int> ids;
  error.clear();
  EXPECT_FALSE(backend.Encode("text", &ids, &error));
  EXPECT_FALSE(error.empty());
}

}  // namespace
}  // namespace accllm::testing
