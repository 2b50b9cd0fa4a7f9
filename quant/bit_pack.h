// Packing of b-bit codes (b in 1..8) into bytes: the layout of qweight rows and KV codes.
//
// A row of n codes is a little-endian bitstream: code j occupies stream bits [j*b, (j+1)*b),
// and stream bit i is bit (i % 8) of byte i / 8. So for b = 2 code j sits in byte j / 4 at
// bits 2*(j % 4); for b = 4 in byte j / 2, low nibble for even j; for b = 8 it is byte j; for
// b = 3 every 8 codes fill 3 bytes. A row takes ceil(n * b / 8) bytes; the padding bits of its
// last byte are zero.
#ifndef ACCLLM_QUANT_BIT_PACK_H_
#define ACCLLM_QUANT_BIT_PACK_H_

#include <cstddef>
#include <cstdint>
#include <span>

namespace accllm {

inline constexpr int64_t PackedBytes(int64_t count, int bits) { return (count * bits + 7) / 8; }

// Reads code j of a packed row (the bytes it spans must be inside `row`).
inline uint8_t GetPackedCode(std::span<const uint8_t> row, int64_t j, int bits) {
  const int64_t bit = j * bits;
  const int64_t byte = bit / 8;
  const int shift = static_cast<int>(bit % 8);
  uint32_t word = row[byte];
  if (shift + bits > 8) word |= static_cast<uint32_t>(row[byte + 1]) << 8;
  return static_cast<uint8_t>((word >> shift) & ((1u << bits) - 1));
}

// Writes code j (its high bits beyond `bits` must be zero) into a row that was zeroed first.
inline void OrPackedCode(std::span<uint8_t> row, int64_t j, int bits, uint8_t code) {
  const int64_t bit = j * bits;
  const int64_t byte = bit / 8;
  const int shift = static_cast<int>(bit % 8);
  const uint32_t word = static_cast<uint32_t>(code) << shift;
  row[byte] |= static_cast<uint8_t>(word & 0xFF);
  if (shift + bits > 8) row[byte + 1] |= static_cast<uint8_t>(word >> 8);
}

// codes (each < 2^bits) -> out, which must hold PackedBytes(codes.size(), bits) bytes.
void PackCodes(std::span<const uint8_t> codes, int bits, std::span<uint8_t> out);
// packed -> out (out.size() codes).
void UnpackCodes(std::span<const uint8_t> packed, int bits, std::span<uint8_t> out);

// True when the padding bits after `count` codes in a packed row are all zero.
bool PaddingIsZero(std::span<const uint8_t> row, int64_t count, int bits);

}  // namespace accllm

#endif  // ACCLLM_QUANT_BIT_PACK_H_
