// tokenizer.bin (llama2.c's format), then the tokenizer it makes on a short text and on its
// own pieces' ids: loading, encoding and decoding must not crash whatever the vocabulary.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/tokenizer/llama2c_tokenizer.h"  // LoadLlama2cTokenizer
#include "tests/fuzz/fuzz_file.h"               // WriteScratch

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = accllm::fuzz::WriteScratch("tokenizer.bin", data, size);
  auto tokenizer = accllm::LoadLlama2cTokenizer(path);
  if (!tokenizer.ok()) return 0;
  auto ids = (*tokenizer)->Encode("Once upon a time, \xc3\xa9t\xc3\xa9 \xf0\x9f\x99\x82 \xff", true);
  if (ids.ok()) {
    for (int32_t id : *ids) {
      if (id < 0 || id >= (*tokenizer)->vocab_size()) __builtin_trap();
    }
    (void)(*tokenizer)->Decode(*ids);
  }
  std::vector<int32_t> all;
  for (int32_t id = 0; id < (*tokenizer)->vocab_size() && id < 512; ++id) all.push_back(id);
  (void)(*tokenizer)->Decode(all);
  (void)(*tokenizer)->DecodeToken(0, -1);
  (void)(*tokenizer)->DecodeToken(1, (*tokenizer)->vocab_size());
  return 0;
}
