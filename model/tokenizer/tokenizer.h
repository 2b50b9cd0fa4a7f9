// The project's tokenizer interface: text <-> token ids, streamed decoding.
// Implementations: SentencePiece (tokenizer.model) and llama2.c (tokenizer.bin).
#ifndef ACCLLM_MODEL_TOKENIZER_TOKENIZER_H_
#define ACCLLM_MODEL_TOKENIZER_TOKENIZER_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"  // absl::StatusOr

namespace accllm {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  virtual std::string_view kind() const = 0;  // "sentencepiece" | "llama2c"
  virtual int32_t vocab_size() const = 0;
  virtual int32_t bos_id() const = 0;
  virtual int32_t eos_id() const = 0;

  // Text to ids (with SentencePiece's dummy-prefix convention); `add_bos` prepends BOS.
  virtual absl::StatusOr<std::vector<int32_t>> Encode(std::string_view text,
                                                      bool add_bos) const = 0;

  // The bytes `token` adds to a stream when it follows `prev`: the leading space
  // after BOS is dropped, byte tokens (<0xAB>) give one raw byte, control tokens
  // give nothing. An id outside [0, vocab_size) is an InvalidArgument error.
  virtual absl::StatusOr<std::string> DecodeToken(int32_t prev, int32_t token) const = 0;

  // Whole-sequence decoding: DecodeToken over `ids`, the first one following BOS.
  absl::StatusOr<std::string> Decode(std::span<const int32_t> ids) const;
};

// Opens dir/tokenizer.model (SentencePiece) or else dir/tokenizer.bin (llama2.c).
// NotFound when the directory has neither (the model then works with ids only);
// a malformed file is a DataLoss error that names it.
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizerFromDir(const std::filesystem::path& dir);

// The tokenizer file names a model directory may hold, in order of preference.
inline constexpr std::string_view kSentencePieceFileName = "tokenizer.model";
inline constexpr std::string_view kLlama2cTokenizerFileName = "tokenizer.bin";

}  // namespace accllm

#endif  // ACCLLM_MODEL_TOKENIZER_TOKENIZER_H_
