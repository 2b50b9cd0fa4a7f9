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

  // The backend lives in its own shared library (accllm_sentencepiece_shim),
  // loaded with RTLD_DEEPBIND: libsentencepiece carries private copies of
  // protobuf-lite symbols that clash with libprotobuf in processes that also use
  // gRPC, and a deep-bound load keeps each library on its own copies. Null (with
  // *error) when the library cannot be loaded.
  static std::unique_ptr<SentencePieceBackend> Create(std::string* error);

  SentencePieceBackend();  // inside the shim only: use Create
  virtual ~SentencePieceBackend();
  SentencePieceBackend(const SentencePieceBackend&) = delete;
  SentencePieceBackend& operator=(const SentencePieceBackend&) = delete;

  // Loads a serialized model (a tokenizer.model file, or its bytes). On failure
  // returns false and sets *error to SentencePiece's message.
  virtual bool Load(const std::string& path, std::string* error);
  virtual bool LoadFromSerializedProto(std::string_view bytes, std::string* error);

  // Text to ids with the model's normalizer (dummy prefix, byte fallback...); no BOS/EOS.
  virtual bool Encode(std::string_view text, std::vector<int>* ids, std::string* error) const;
  // SentencePiece's own whole-sequence decoding (the reference for tests).
  virtual bool Decode(const std::vector<int>& ids, std::string* text, std::string* error) const;

  // Piece table. Ids must be in [0, piece_size()); 0 pieces before a successful Load.
  // Encode/Decode fail and the ids below are -1 until then.
  virtual int piece_size() const;
  virtual const std::string& IdToPiece(int id) const;
  virtual float GetScore(int id) const;
  virtual PieceKind GetPieceKind(int id) const;

  // -1 when the model has no such piece.
  virtual int unk_id() const;
  virtual int bos_id() const;
  virtual int eos_id() const;
  virtual int pad_id() const;

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
