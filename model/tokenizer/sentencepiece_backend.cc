// The only translation unit that includes SentencePiece (see the header for why).
// Keep every Abseil header out of this file, directly or through project headers.
// It is built into its own shared library, accllm_sentencepiece_shim, which the
// tokenizer loads at run time (sentencepiece_loader.cc).
#include "model/tokenizer/sentencepiece_backend.h"

#include <sentencepiece_processor.h>  // sentencepiece::SentencePieceProcessor

namespace accllm {
namespace {

constexpr std::string_view kSpaceSymbol = "\xE2\x96\x81";  // "▁", U+2581

// SentencePiece's absl::string_view is std::string_view, so text passes through as is.
bool Check(const sentencepiece::util::Status& status, std::string* error) {
  if (status.ok()) return true;
  if (error != nullptr) *error = status.ToString();
  return false;
}

}  // namespace

SentencePieceBackend::SentencePieceBackend()
    : processor_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {}

SentencePieceBackend::~SentencePieceBackend() = default;

bool SentencePieceBackend::Load(const std::string& path, std::string* error) {
  loaded_ = false;
  return AfterLoad(Check(processor_->Load(path), error), error);
}

bool SentencePieceBackend::LoadFromSerializedProto(std::string_view bytes, std::string* error) {
  loaded_ = false;
  return AfterLoad(Check(processor_->LoadFromSerializedProto(bytes), error), error);
}

bool SentencePieceBackend::AfterLoad(bool ok, std::string* error) {
  if (ok && processor_->GetPieceSize() <= 0) {
    if (error != nullptr) *error = "the model has no pieces";
    ok = false;
  }
  if (!ok) {
    // Start over from a clean processor rather than trust a half-loaded one.
    processor_ = std::make_unique<sentencepiece::SentencePieceProcessor>();
    return false;
  }
  // The model proto's normalizer spec is not reachable without protobuf headers
  // that Debian does not ship, so ask the normalizer: does "a" gain a leading "▁"?
  std::vector<std::string> pieces;
  if (!Check(processor_->Encode("a", &pieces), error)) return false;
  adds_dummy_prefix_ =
      !pieces.empty() && (pieces[0].starts_with(kSpaceSymbol) || pieces[0] == "<0xE2>");
  loaded_ = true;
  return true;
}

bool SentencePieceBackend::NotLoaded(std::string* error) const {
  if (loaded_) return false;
  if (error != nullptr) *error = "no SentencePiece model is loaded";
  return true;
}

bool SentencePieceBackend::Encode(std::string_view text, std::vector<int>* ids,
                                  std::string* error) const {
  ids->clear();
  if (NotLoaded(error)) return false;
  return Check(processor_->Encode(text, ids), error);
}

bool SentencePieceBackend::Decode(const std::vector<int>& ids, std::string* text,
                                  std::string* error) const {
  text->clear();
  if (NotLoaded(error)) return false;
  return Check(processor_->Decode(ids, text), error);
}

// Asking an unloaded processor logs an error line, so answer for it.
int SentencePieceBackend::piece_size() const { return loaded_ ? processor_->GetPieceSize() : 0; }

const std::string& SentencePieceBackend::IdToPiece(int id) const {
  return processor_->IdToPiece(id);
}

float SentencePieceBackend::GetScore(int id) const { return processor_->GetScore(id); }

SentencePieceBackend::PieceKind SentencePieceBackend::GetPieceKind(int id) const {
  if (processor_->IsControl(id)) return PieceKind::kControl;
  if (processor_->IsUnknown(id)) return PieceKind::kUnknown;
  if (processor_->IsByte(id)) return PieceKind::kByte;
  if (processor_->IsUnused(id)) return PieceKind::kUnused;
  return PieceKind::kNormal;
}

int SentencePieceBackend::unk_id() const { return loaded_ ? processor_->unk_id() : -1; }
int SentencePieceBackend::bos_id() const { return loaded_ ? processor_->bos_id() : -1; }
int SentencePieceBackend::eos_id() const { return loaded_ ? processor_->eos_id() : -1; }
int SentencePieceBackend::pad_id() const { return loaded_ ? processor_->pad_id() : -1; }

}  // namespace accllm

// The shim's one entry point, found with dlsym.
extern "C" __attribute__((visibility("default"))) accllm::SentencePieceBackend*
accllm_new_sentencepiece_backend() {
  return new accllm::SentencePieceBackend();
}
