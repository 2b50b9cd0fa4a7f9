#include "model/tokenizer/synthetic_vocab.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>

#include "absl/status/status.h"          // absl::InvalidArgumentError
#include "absl/strings/str_cat.h"        // absl::StrCat
#include "model/tokenizer/byte_piece.h"  // accllm::BytePieceName

namespace accllm {
namespace {

// Common English words (TinyStories-flavoured), each added with and without a
// leading space. ASCII letters and apostrophes only: a piece never contains an
// inner space, so merges never cross word boundaries.
constexpr std::string_view kWords[] = {
    "the",     "and",     "to",     "a",     "of",     "in",       "was",     "he",      "she",
    "it",      "that",    "is",     "for",   "on",     "with",     "they",    "her",     "his",
    "you",     "at",      "be",     "this",  "had",    "not",      "but",     "have",    "from",
    "by",      "are",     "or",     "we",    "one",    "all",      "there",   "were",    "an",
    "so",      "said",    "what",   "up",    "out",    "if",       "about",   "who",     "get",
    "which",   "go",      "me",     "when",  "make",   "can",      "like",    "time",    "no",
    "just",    "him",     "know",   "take",  "people", "into",     "year",    "your",    "good",
    "some",    "could",   "them",   "see",   "other",  "than",     "then",    "now",     "look",
    "only",    "come",    "its",    "over",  "think",  "also",     "back",    "after",   "use",
    "two",     "how",     "our",    "work",  "first",  "well",     "way",     "even",    "new",
    "want",    "because", "any",    "these", "give",   "day",      "most",    "us",      "very",
    "once",    "upon",    "little", "big",   "happy",  "sad",      "play",    "played",  "friend",
    "friends", "mom",     "dad",    "girl",  "boy",    "named",    "dog",     "cat",     "bird",
    "tree",    "ball",    "toy",    "park",  "sun",    "sky",      "went",    "saw",     "wanted",
    "help",    "helped",  "home",   "house", "fun",    "together", "smiled",  "laughed", "found",
    "asked",   "felt",    "nice",   "red",   "blue",   "green",    "water",   "food",    "eat",
    "ran",     "run",     "jump",   "fly",   "small",  "tiny",     "kind",    "love",    "loved",
    "thank",   "sorry",   "yes",    "did",   "do",     "does",     "has",     "am",      "will",
    "would",   "should",  "more",   "many",  "much",   "every",    "where",   "why",     "here",
    "down",    "off",     "again",  "too",   "old",    "long",     "little",  "story",   "world",
    "hand",    "head",    "eyes",   "door",  "car",    "book",     "school",  "garden",  "flower",
    "flowers", "rain",    "box",    "cake",  "bed",    "night",    "morning", "Once",    "The",
    "He",      "She",     "They",   "It",    "One",    "Lily",     "Tim",     "Ben",     "Sue",
    "Tom",     "Anna",    "Max",    "Mia",   "I",      "We",       "You",     "But",     "Then",
    "So",      "When",    "ing",    "ed",    "er",     "ly",       "es",      "s",       "tion",
    "ment",    "ness",    "able",   "ful",   "less",   "est",      "re",      "un",      "in",
    "th",      "ch",      "sh",     "wh",    "ou",     "ea",       "ee",      "oo",      "ai",
    "ay",      "ow",      "ll",     "ss",    "'s",     "n't",      "'ll",     "'re",     "'ve",
    "'m",      "'d",
};
constexpr std::string_view kSuffixes[] = {"s", "ed", "ing", "er", "ly"};

class VocabBuilder {
 public:
  explicit VocabBuilder(int32_t size) : size_(size) {
    vocab_.pieces.reserve(size);
    vocab_.scores.reserve(size);
    seen_.reserve(size);
  }

  bool full() const { return static_cast<int32_t>(vocab_.pieces.size()) >= size_; }

  // False when the vocabulary is full or already has `piece`.
  bool Add(std::string piece, float score) {
    if (full() || !seen_.insert(piece).second) return false;
    vocab_.pieces.push_back(std::move(piece));
    vocab_.scores.push_back(score);
    return true;
  }

  // Adds every prefix of `text` of two or more bytes, shortest first, so each
  // is an earlier piece plus one character. Later merges score lower.
  void AddWithPrefixes(std::string_view text) {
    for (size_t len = 2; len <= text.size() && !full(); ++len) {
      if (Add(std::string(text.substr(0, len)), -static_cast<float>(merges_ + 1))) ++merges_;
    }
  }

  Vocab Take() { return std::move(vocab_); }

 private:
  const int32_t size_;
  Vocab vocab_;
  std::unordered_set<std::string> seen_;
  int64_t merges_ = 0;
};

}  // namespace

absl::StatusOr<Vocab> BuildSyntheticVocab(int32_t vocab_size) {
  if (vocab_size < kMinSyntheticVocabSize || vocab_size > kMaxSyntheticVocabSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "synthetic vocabulary size ", vocab_size, " is outside [", kMinSyntheticVocabSize, ", ",
        kMaxSyntheticVocabSize, "] (<unk>, <s>, </s> and 256 byte pieces come first)"));
  }
  VocabBuilder b(vocab_size);
  b.Add("<unk>", 0.0f);
  b.Add("<s>", 0.0f);
  b.Add("</s>", 0.0f);
  for (int byte = 0; byte < 256; ++byte) b.Add(BytePieceName(static_cast<uint8_t>(byte)), 0.0f);
  for (char c = ' '; c <= '~'; ++c) b.Add(std::string(1, c), 0.0f);

  for (std::string_view word : kWords) {
    b.AddWithPrefixes(absl::StrCat(" ", std::string(word)));
    b.AddWithPrefixes(word);
  }
  for (std::string_view word : kWords) {
    if (word.front() < 'a' || word.front() > 'z' || word.size() < 3) continue;
    for (std::string_view suffix : kSuffixes) {
      b.AddWithPrefixes(absl::StrCat(" ", std::string(word), std::string(suffix)));
    }
  }
  // Then every lowercase string, level by level: at level L, " " + (L-1 letters)
  // and L letters, whose prefixes all came at level L-1. 26^5 strings at level 5
  // outnumber kMaxSyntheticVocabSize, so this always fills the vocabulary.
  for (int level = 2; !b.full(); ++level) {
    for (bool leading_space : {true, false}) {
      const int letters = leading_space ? level - 1 : level;
      std::string s(letters, 'a');
      while (!b.full()) {
        b.AddWithPrefixes(leading_space ? " " + s : s);
        // The next string in lexicographic order, or done after "zz...z".
        int i = letters - 1;
        while (i >= 0 && s[i] == 'z') s[i--] = 'a';
        if (i < 0) break;
        ++s[i];
      }
    }
  }
  return b.Take();
}

}  // namespace accllm
