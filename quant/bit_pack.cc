#include "quant/bit_pack.h"

#include <algorithm>  // std::fill

namespace accllm {

void PackCodes(std::span<const uint8_t> codes, int bits, std::span<uint8_t> out) {
  std::fill(out.begin(), out.end(), uint8_t{0});
  const uint8_t mask = static_cast<uint8_t>((1u << bits) - 1);
  for (size_t j = 0; j < codes.size(); ++j) {
    OrPackedCode(out, static_cast<int64_t>(j), bits, codes[j] & mask);
  }
}

void UnpackCodes(std::span<const uint8_t> packed, int bits, std::span<uint8_t> out) {
  for (size_t j = 0; j < out.size(); ++j) {
    out[j] = GetPackedCode(packed, static_cast<int64_t>(j), bits);
  }
}

bool PaddingIsZero(std::span<const uint8_t> row, int64_t count, int bits) {
  const int64_t used_bits = count * bits;
  const int64_t bytes = PackedBytes(count, bits);
  if (bytes == 0 || used_bits % 8 == 0) return true;
  const uint8_t last = row[bytes - 1];
  return (last >> (used_bits % 8)) == 0;
}

}  // namespace accllm
