// A firewall around libsentencepiece: plain std types only.
//
// Why: sentencepiece_processor.h (0.1.97) declares
// `namespace absl { using std::string_view; }`, which clashes with the real
// Abseil headers. Only sentencepiece_backend.cc sees SentencePiece; this header
// includes neither SentencePiece nor Abseil, so any file may include it.
#ifndef ACCLLM_MODEL_TOKENIZER_SENTENCEPIECE_BACKEND_H_
#define ACCLLM_MODEL_TOKENIZER_SENTENCEPIECE_BACKEND_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}  // namespace sentencepiece

namespace accllm {

class SentencePieceBackend {
 public:
  // How a piece decodes (SentencePiece's piece types; user-defined pieces are kNormal).
  enum class PieceKind { kNormal, kUnknown, kControl, kUnused, kByte };

  SentencePieceBackend();
  ~SentencePieceBackend();
  SentencePieceBackend(const SentencePieceBackend&) = delete;
  SentencePieceBackend& operator=(const SentencePieceBackend&) = delete;

  // Loads a serialized model (a tokenizer.model file, or its bytes). On failure
  // returns false and sets *error to SentencePiece's message.
  bool Load(const std::string& path, std::string* error);
  bool LoadFromSerializedProto(std::string_view bytes, std::string* error);

  // Text to ids with the model's normalizer (dummy prefix, byte fallback...); no BOS/EOS.
  bool Encode(std::string_view text, std::vector<int>* ids, std::string* error) const;
  // SentencePiece's own whole-sequence decoding (the reference for tests).
  bool Decode(const std::vector<int>& ids, std::string* text, std::string* error) const;

  // Piece table. Ids must be in [0, piece_size()); 0 pieces before a successful Load.
  // Encode/Decode fail and the ids below are -1 until then.
  int piece_size() const;
  const std::string& IdToPiece(int id) const;
  float GetScore(int id) const;
  PieceKind GetPieceKind(int id) const;

  // -1 when the model has no such piece.
  int unk_id() const;
  int bos_id() const;
  int eos_id() const;
  int pad_id() const;

  // Whether encoding prepends "▁" to the text (the normalizer's add_dummy_prefix),
  // i.e. whether decoding must drop the first leading space.
  bool adds_dummy_prefix() const { return adds_dummy_prefix_; }

 private:
  // Finishes Load* given SentencePiece's verdict `ok`; resets the processor on failure.
  bool AfterLoad(bool ok, std::string* error);
  // True (with *error set) before a successful Load.
  bool NotLoaded(std::string* error) const;

  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
  bool loaded_ = false;
  bool adds_dummy_prefix_ = false;
};

}  // namespace accllm

#endif  // ACCLLM_MODEL_TOKENIZER_SENTENCEPIECE_BACKEND_H_
