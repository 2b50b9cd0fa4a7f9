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

namespace {

// Widths that divide 8: no code straddles two bytes, and the compiler's constants turn the
// per-code division into shifts (loading a model unpacks every weight once).
template <int kBits>
void UnpackWholeByteCodes(std::span<const uint8_t> packed, std::span<uint8_t> out) {
  constexpr size_t kPerByte = 8 / kBits;
  constexpr unsigned kMask = (1u << kBits) - 1;
  for (size_t j = 0; j < out.size(); ++j) {
    out[j] = static_cast<uint8_t>((packed[j / kPerByte] >> (kBits * (j % kPerByte))) & kMask);
  }
}

}  // namespace

void UnpackCodes(std::span<const uint8_t> packed, int bits, std::span<uint8_t> out) {
  switch (bits) {
    case 2:
      return UnpackWholeByteCodes<2>(packed, out);
    case 4:
      return UnpackWholeByteCodes<4>(packed, out);
    case 8:
      return UnpackWholeByteCodes<8>(packed, out);
    default:
      for (size_t j = 0; j < out.size(); ++j) {
        out[j] = GetPackedCode(packed, static_cast<int64_t>(j), bits);
      }
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
