// A deterministic llama2.c-style vocabulary of any size, for random-weight test
// models that need a real tokenizer (write it with WriteLlama2cTokenizer, or
// use it directly with Llama2cTokenizer::Create).
#ifndef ACCLLM_MODEL_TOKENIZER_SYNTHETIC_VOCAB_H_
#define ACCLLM_MODEL_TOKENIZER_SYNTHETIC_VOCAB_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"  // absl::StatusOr

namespace accllm {

struct Vocab {
  std::vector<std::string> pieces;
  std::vector<float> scores;  // same length as pieces
};

// The smallest vocabulary: <unk>, <s>, </s> and the 256 byte pieces.
inline constexpr int32_t kMinSyntheticVocabSize = 259;
inline constexpr int32_t kMaxSyntheticVocabSize = 1 << 20;

// Exactly `vocab_size` unique pieces, the same for the same size (a smaller
// vocabulary is a prefix of a larger one):
//   0 <unk>, 1 <s>, 2 </s>, 3..258 <0x00>..<0xFF>   (score 0)
//   then the printable ASCII characters ' '..'~'     (score 0)
//   then English words and word pieces (" the", "the", "ing", ...), then
//   lowercase letter strings (" ab", "abc", ...), each the concatenation of an
//   earlier piece and one character, with scores -1, -2, ... in order, so
//   llama2.c's merges (highest score first) build every listed word.
// InvalidArgument outside [kMinSyntheticVocabSize, kMaxSyntheticVocabSize].
absl::StatusOr<Vocab> BuildSyntheticVocab(int32_t vocab_size);

}  // namespace accllm

#endif  // ACCLLM_MODEL_TOKENIZER_SYNTHETIC_VOCAB_H_
