// Trains small SentencePiece models for the tests (implemented in
// sentencepiece_training_test.cc, which keeps Abseil out of the translation
// unit that includes sentencepiece_trainer.h). Plain std types only.
#ifndef ACCLLM_TESTS_MODEL_TOKENIZER_SENTENCEPIECE_TRAINING_H_
#define ACCLLM_TESTS_MODEL_TOKENIZER_SENTENCEPIECE_TRAINING_H_

#include <filesystem>
#include <string>
#include <vector>

namespace accllm::testing {

// Deterministic English-like sentences (with digits, punctuation and a few
// accented words), one per line.
std::vector<std::string> GenerateEnglishCorpus(int lines);

// Trains a BPE model with byte fallback, Llama-style normalization (identity,
// dummy prefix, spaces kept), unk=0 bos=1 eos=2, and writes it to `model_path`
// (which must end in ".model"). False with *error on failure.
bool TrainSentencePieceModel(const std::filesystem::path& model_path, int vocab_size,
                             std::string* error);

// A tokenizer.model trained once per test binary (400 pieces) in a directory
// removed at exit; empty with *error set when training failed.
std::filesystem::path SharedSentencePieceModel(std::string* error);

inline constexpr int kSharedModelVocabSize = 400;

}  // namespace accllm::testing

#endif  // ACCLLM_TESTS_MODEL_TOKENIZER_SENTENCEPIECE_TRAINING_H_
