// Tokenizer over llama2.c's tokenizer.bin, behaving as llama2.c's run.c does.
//
// File format (native little-endian, no piece count: records run to EOF):
//   int32 max_token_length
//   repeated: float32 score, int32 len, len bytes (the piece, spaces as ' ')
// By llama2.c's convention id 0 is <unk>, 1 BOS, 2 EOS and ids 3..258 are the
// byte pieces <0x00>..<0xFF> used for byte fallback.
#ifndef ACCLLM_MODEL_TOKENIZER_LLAMA2C_TOKENIZER_H_
#define ACCLLM_MODEL_TOKENIZER_LLAMA2C_TOKENIZER_H_

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"         // absl::Status
#include "absl/status/statusor.h"       // absl::StatusOr
#include "model/tokenizer/tokenizer.h"  // accllm::Tokenizer

namespace accllm {

class Llama2cTokenizer final : public Tokenizer {
 public:
  static constexpr int32_t kUnkId = 0;
  static constexpr int32_t kBosId = 1;
  static constexpr int32_t kEosId = 2;
  // Longest piece the loader accepts (Llama 2's longest is 16 bytes): bounds
  // what a hostile header can make us allocate.
  static constexpr int32_t kMaxPieceBytes = 1 << 16;

  // An in-memory vocabulary (e.g. BuildSyntheticVocab's). InvalidArgument when
  // the sizes differ, it is empty, or a piece exceeds kMaxPieceBytes.
  static absl::StatusOr<std::unique_ptr<Llama2cTokenizer>> Create(std::vector<std::string> pieces,
                                                                  std::vector<float> scores);

  std::string_view kind() const override { return "llama2c"; }
  int32_t vocab_size() const override { return static_cast<int32_t>(pieces_.size()); }
  int32_t bos_id() const override { return kBosId; }
  int32_t eos_id() const override { return kEosId; }

  // run.c's encode: a dummy " " prefix for non-empty text, one token per UTF-8
  // code point found in the vocabulary (else one byte-fallback token per byte,
  // id = byte + 3), then repeatedly merge the adjacent pair whose concatenation
  // is a piece with the highest score (leftmost on ties). O(n log n), not run.c's O(n²).
  // InvalidArgument when byte fallback is needed but ids 3..258 are not byte pieces.
  absl::StatusOr<std::vector<int32_t>> Encode(std::string_view text, bool add_bos) const override;

  // run.c's decode: the leading space is stripped after BOS, "<0xAB>" is the raw
  // byte 0xAB. Unlike run.c, BOS/EOS (and id 0 when it is "<unk>") give nothing,
  // and <0x20> after BOS gives nothing (it is the dummy prefix of a vocabulary
  // without a " " piece).
  absl::StatusOr<std::string> DecodeToken(int32_t prev, int32_t token) const override;

  const std::vector<std::string>& pieces() const { return pieces_; }
  const std::vector<float>& scores() const { return scores_; }
  int32_t max_token_length() const { return max_token_length_; }

 private:
  Llama2cTokenizer(std::vector<std::string> pieces, std::vector<float> scores);

  // The first id whose piece is `piece`, or -1 (run.c's str_lookup).
  int32_t Lookup(const std::string& piece) const;

  std::vector<std::string> pieces_;  // [vocab_size]
  std::vector<float> scores_;        // [vocab_size] higher merges first
  std::vector<bool> silent_;         // [vocab_size] control pieces that decode to nothing
  std::vector<int16_t> byte_value_;  // [vocab_size] 0..255 for "<0xAB>" pieces, else -1
  std::unordered_map<std::string, int32_t> ids_;
  int32_t max_token_length_ = 0;
  bool has_byte_fallback_ = false;  // ids 3..258 are <0x00>..<0xFF>
};

// Reads a tokenizer.bin. NotFound when it does not exist; DataLoss naming the
// file (and the record index) when it is truncated, has a piece length outside
// [0, max_token_length], no records, or trailing bytes.
absl::StatusOr<std::unique_ptr<Llama2cTokenizer>> LoadLlama2cTokenizer(
    const std::filesystem::path& path);

// Writes a tokenizer.bin that llama2.c (and LoadLlama2cTokenizer) reads;
// max_token_length is the longest piece.
absl::Status WriteLlama2cTokenizer(const std::filesystem::path& path,
                                   const std::vector<std::string>& pieces,
                                   const std::vector<float>& scores);

}  // namespace accllm

#endif  // ACCLLM_MODEL_TOKENIZER_LLAMA2C_TOKENIZER_H_
