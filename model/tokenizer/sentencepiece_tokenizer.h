// Tokenizer over a SentencePiece model (tokenizer.model), as Llama 1/2 ship it.
#ifndef ACCLLM_MODEL_TOKENIZER_SENTENCEPIECE_TOKENIZER_H_
#define ACCLLM_MODEL_TOKENIZER_SENTENCEPIECE_TOKENIZER_H_

#include <filesystem>
#include <memory>

#include "absl/status/statusor.h"       // absl::StatusOr
#include "model/tokenizer/tokenizer.h"  // accllm::Tokenizer

namespace accllm {

// Loads `path` (a serialized SentencePiece ModelProto). NotFound when the file
// does not exist; DataLoss naming the file when SentencePiece cannot parse it.
// kind() is "sentencepiece"; BOS/EOS are the model's own (-1 when it has none).
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadSentencePieceTokenizer(
    const std::filesystem::path& path);

}  // namespace accllm

#endif  // ACCLLM_MODEL_TOKENIZER_SENTENCEPIECE_TOKENIZER_H_
