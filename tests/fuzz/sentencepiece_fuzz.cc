// tokenizer.model through the project's Tokenizer interface (the SentencePiece shim loaded at
// run time): a model SentencePiece accepts must encode and decode a short text.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "model/tokenizer/sentencepiece_tokenizer.h"  // LoadSentencePieceTokenizer
#include "tests/fuzz/fuzz_file.h"                     // WriteScratch

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = accllm::fuzz::WriteScratch("tokenizer.model", data, size);
  auto tokenizer = accllm::LoadSentencePieceTokenizer(path);
  if (!tokenizer.ok()) {
    // ACCLLM_FUZZ_VERBOSE=1: why an input was refused (e.g. to check that the seeds load).
    if (std::getenv("ACCLLM_FUZZ_VERBOSE") != nullptr) {
      std::fprintf(stderr, "%s\n", tokenizer.status().ToString().c_str());
    }
    return 0;
  }
  auto ids = (*tokenizer)->Encode("Once upon a time \xc3\xa9 \xff", true);
  if (!ids.ok()) return 0;
  for (int32_t id : *ids) {
    if (id < 0 || id >= (*tokenizer)->vocab_size()) __builtin_trap();
  }
  (void)(*tokenizer)->Decode(*ids);
  (void)(*tokenizer)->DecodeToken(0, (*tokenizer)->vocab_size());
  (void)(*tokenizer)->DecodeToken(0, -1);
  return 0;
}
