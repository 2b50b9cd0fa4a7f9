// Byte pieces: "<0xAB>" stands for the single raw byte 0xAB (SentencePiece's
// byte fallback; llama2.c keeps them at ids 3..258).
#ifndef ACCLLM_MODEL_TOKENIZER_BYTE_PIECE_H_
#define ACCLLM_MODEL_TOKENIZER_BYTE_PIECE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace accllm {

// The first id of the 256 byte pieces in llama2.c vocabularies (after <unk>, <s>, </s>).
inline constexpr int32_t kFirstBytePieceId = 3;

// "<0xAB>" for 0xAB: upper-case hex, as SentencePiece writes them.
inline std::string BytePieceName(uint8_t byte) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  return std::string{'<', '0', 'x', kHex[byte >> 4], kHex[byte & 0xF], '>'};
}

// The byte a piece stands for, or nullopt when it is not exactly "<0xHH>"
// (either hex case). Strict on purpose: "<0x4" or "<0x41>x" are ordinary text.
inline std::optional<uint8_t> ParseBytePiece(std::string_view piece) {
  if (piece.size() != 6 || piece[0] != '<' || piece[1] != '0' || piece[2] != 'x' ||
      piece[5] != '>') {
    return std::nullopt;
  }
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  const int hi = nibble(piece[3]);
  const int lo = nibble(piece[4]);
  if (hi < 0 || lo < 0) return std::nullopt;
  return static_cast<uint8_t>(hi * 16 + lo);
}

}  // namespace accllm

#endif  // ACCLLM_MODEL_TOKENIZER_BYTE_PIECE_H_
