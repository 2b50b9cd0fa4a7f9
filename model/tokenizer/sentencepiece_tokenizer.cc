#include "model/tokenizer/sentencepiece_tokenizer.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"                     // absl::DataLossError, absl::NotFoundError
#include "absl/strings/str_cat.h"                   // absl::StrCat
#include "model/tokenizer/byte_piece.h"             // accllm::ParseBytePiece
#include "model/tokenizer/sentencepiece_backend.h"  // accllm::SentencePieceBackend

namespace accllm {
namespace {

namespace fs = std::filesystem;
using PieceKind = SentencePieceBackend::PieceKind;

constexpr std::string_view kSpaceSymbol = "\xE2\x96\x81";  // "▁", U+2581

// "▁the" -> " the": SentencePiece writes spaces as U+2581 inside pieces.
std::string PieceToText(std::string_view piece) {
  std::string text;
  text.reserve(piece.size());
  while (!piece.empty()) {
    if (piece.starts_with(kSpaceSymbol)) {
      text += ' ';
      piece.remove_prefix(kSpaceSymbol.size());
    } else {
      text += piece.front();
      piece.remove_prefix(1);
    }
  }
  return text;
}

class SentencePieceTokenizer final : public Tokenizer {
 public:
  explicit SentencePieceTokenizer(std::unique_ptr<SentencePieceBackend> backend)
      : backend_(std::move(backend)) {
    // Precompute what each id adds to a stream, so DecodeToken is a table lookup.
    const int n = backend_->piece_size();
    texts_.resize(n);
    strippable_.resize(n, false);
    for (int id = 0; id < n; ++id) {
      const std::string& piece = backend_->IdToPiece(id);
      switch (backend_->GetPieceKind(id)) {
        case PieceKind::kControl:
        case PieceKind::kUnknown:
          break;  // <s>, </s>, <unk>: nothing visible
        case PieceKind::kByte:
          if (std::optional<uint8_t> byte = ParseBytePiece(piece)) {
            texts_[id] = std::string(1, static_cast<char>(*byte));
          }
          break;
        case PieceKind::kNormal:
        case PieceKind::kUnused:
          texts_[id] = PieceToText(piece);
          strippable_[id] = backend_->adds_dummy_prefix() && texts_[id].starts_with(' ');
          break;
      }
    }
  }

  std::string_view kind() const override { return "sentencepiece"; }
  int32_t vocab_size() const override { return static_cast<int32_t>(texts_.size()); }
  int32_t bos_id() const override { return backend_->bos_id(); }
  int32_t eos_id() const override { return backend_->eos_id(); }

  absl::StatusOr<std::vector<int32_t>> Encode(std::string_view text, bool add_bos) const override {
    std::vector<int32_t> ids;
    if (add_bos) {
      if (bos_id() < 0) return absl::FailedPreconditionError("the SentencePiece model has no BOS");
      ids.push_back(bos_id());
    }
    std::vector<int> encoded;
    std::string error;
    if (!backend_->Encode(text, &encoded, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("SentencePiece cannot encode the text: ", error));
    }
    ids.insert(ids.end(), encoded.begin(), encoded.end());
    return ids;
  }

  absl::StatusOr<std::string> DecodeToken(int32_t prev, int32_t token) const override {
    if (token < 0 || token >= vocab_size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("token id ", token, " is outside the vocabulary [0, ", vocab_size(), ")"));
    }
    const std::string& text = texts_[token];
    // The dummy prefix the encoder added before the first word is not part of the text.
    if (prev == bos_id() && strippable_[token]) return text.substr(1);
    return text;
  }

 private:
  std::unique_ptr<SentencePieceBackend> backend_;
  std::vector<std::string> texts_;  // [vocab_size] decoded bytes of each piece
  std::vector<bool> strippable_;    // [vocab_size] drops its leading space after BOS
};

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadSentencePieceTokenizer(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return absl::NotFoundError(absl::StrCat("SentencePiece model ", path.string(), " not found"));
  }
  if (fs::is_directory(path, ec)) {
    return absl::DataLossError(
        absl::StrCat("SentencePiece model ", path.string(), " is a directory, not a file"));
  }
  std::string error;
  std::unique_ptr<SentencePieceBackend> backend = SentencePieceBackend::Create(&error);
  if (backend == nullptr) return absl::InternalError(error);
  if (!backend->Load(path.string(), &error)) {
    return absl::DataLossError(
        absl::StrCat("malformed SentencePiece model ", path.string(), ": ", error));
  }
  return std::make_unique<SentencePieceTokenizer>(std::move(backend));
}

}  // namespace accllm
