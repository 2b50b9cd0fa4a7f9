#include "model/tokenizer/tokenizer.h"

#include <system_error>

#include "absl/status/status.h"                       // absl::NotFoundError
#include "absl/strings/str_cat.h"                     // absl::StrCat
#include "model/tokenizer/llama2c_tokenizer.h"        // accllm::LoadLlama2cTokenizer
#include "model/tokenizer/sentencepiece_tokenizer.h"  // accllm::LoadSentencePieceTokenizer

namespace accllm {

absl::StatusOr<std::string> Tokenizer::Decode(std::span<const int32_t> ids) const {
  std::string text;
  int32_t prev = bos_id();
  for (int32_t id : ids) {
    absl::StatusOr<std::string> piece = DecodeToken(prev, id);
    if (!piece.ok()) return piece.status();
    text += *piece;
    prev = id;
  }
  return text;
}

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizerFromDir(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat("model directory ", dir.string(), " not found"));
  }
  const std::filesystem::path model = dir / kSentencePieceFileName;
  if (std::filesystem::exists(model, ec)) return LoadSentencePieceTokenizer(model);
  const std::filesystem::path bin = dir / kLlama2cTokenizerFileName;
  if (std::filesystem::exists(bin, ec)) {
    absl::StatusOr<std::unique_ptr<Llama2cTokenizer>> tokenizer = LoadLlama2cTokenizer(bin);
    if (!tokenizer.ok()) return tokenizer.status();
    return std::unique_ptr<Tokenizer>(std::move(*tokenizer));
  }
  return absl::NotFoundError(absl::StrCat("no tokenizer in ", dir.string(), ": neither ",
                                          std::string(kSentencePieceFileName), " nor ",
                                          std::string(kLlama2cTokenizerFileName)));
}

}  // namespace accllm
