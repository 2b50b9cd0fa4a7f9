#include "workers/cpu/tiled_sparse24.h"

#include <algorithm>  // std::fill, std::min
#include <vector>

#include "absl/status/status.h"       // absl::UnimplementedError
#include "absl/strings/str_cat.h"     // absl::StrCat
#include "model/dtype.h"              // HalfToFloat
#include "workers/cpu/thread_pool.h"  // ForEachTile

namespace accllm {

float Sparse24Zeros::Zero(int64_t g, int r) const {
  if (halves != nullptr) return HalfToFloat(halves[g * 16 + r]);
  return static_cast<float>((codes[g] >> (2 * r)) & 3u);
}

absl::StatusOr<TiledSparse24> TileSparse24(const QuantizedLinearView& q, ThreadPool* pool) {
  const WeightFormat& f = q.format;
  if (f.scheme != WeightScheme::kUniform || f.sparsity != Sparsity::k2of4 || f.bits != 2 ||
      f.group != 64 || q.layout.cols % 64 != 0) {
    return absl::UnimplementedError(
        absl::StrCat("no tiled 2:4 CPU kernel for ", f.ToString(), " with ", q.layout.cols,
                     " columns (uniform W2 2:4, group 64, columns a multiple of 64 have one)"));
  }
  TiledSparse24 t;
  t.rows = q.layout.rows;
  t.cols = q.layout.cols;
  t.tiles = (t.rows + 15) / 16;
  t.groups = t.cols / 64;
  t.integer_zeros = f.zero_point == ZeroPoint::kInteger;
  t.codes.assign(t.tiles * t.groups * 128, 0);
  t.positions.assign(t.codes.size(), 0);
  t.scales.assign(t.tiles * t.groups * 16, 0);
  if (t.integer_zeros) {
    t.zero_codes.assign(t.tiles * t.groups, 0);
    t.code_zero_sums.assign(t.scales.size(), 0);
  } else {
    t.zeros.assign(t.scales.size(), 0);
  }
  // Tiles write disjoint bytes, so threads split them; each unpacks one row at a time.
  ForEachTile(pool, t.tiles, [&](int64_t begin, int64_t end, int) {
    std::vector<uint8_t> codes(static_cast<size_t>(t.cols)), keep(codes.size());
    std::vector<int> group_sums(static_cast<size_t>(t.groups));  // per row: Σ kept codes
    for (int64_t r = begin * 16; r < std::min(end * 16, t.rows); ++r) {
      UnpackLinearRow(q, r, codes, keep);
      const std::span<const uint8_t> masks = q.mask_row(r);
      std::fill(group_sums.begin(), group_sums.end(), 0);
      const int64_t tile = r / 16, lane = r % 16;
      // Locals: a byte store may alias t's fields, which would then be reloaded per store.
      uint8_t* const tile_codes = t.codes.data() + tile * t.groups * 128;
      uint8_t* const tile_positions = t.positions.data() + tile * t.groups * 128;
      const int64_t blocks = t.cols / 4;
      for (int64_t b = 0; b < blocks; ++b) {  // blocks of 4 columns
        const int64_t g = b / 16, m = (b % 16) / 2, q_block = m / 4, j = m % 4;
        // Exactly two kept per block (validated): the mask's two bits, lowest first (found
        // without a branch per column, which random masks mispredict).
        const unsigned mask = BlockMaskOf(masks, b);
        const int first = __builtin_ctz(mask), second = __builtin_ctz(mask & (mask - 1));
        const uint8_t c0 = codes[4 * b + first], c1 = codes[4 * b + second];
        const int64_t byte = g * 128 + q_block * 64 + lane * 4 + 2 * (b % 2);
        tile_codes[byte] |= static_cast<uint8_t>(c0 << (2 * j));
        tile_positions[byte] |= static_cast<uint8_t>(first << (2 * j));
        tile_codes[byte + 1] |= static_cast<uint8_t>(c1 << (2 * j));
        tile_positions[byte + 1] |= static_cast<uint8_t>(second << (2 * j));
        group_sums[g] += c0 + c1;
      }
      for (int64_t g = 0; g < t.groups; ++g) {
        const size_t dst = (tile * t.groups + g) * 16 + lane;
        t.scales[dst] = q.scales[r * t.groups + g];
        if (t.integer_zeros) {
          // An integer in 0..3 (validated at load). 32 kept weights per row and group.
          const int zero = static_cast<int>(HalfToFloat(q.zeros[r * t.groups + g]));
          t.zero_codes[tile * t.groups + g] |= static_cast<uint32_t>(zero) << (2 * lane);
          t.code_zero_sums[dst] = static_cast<int16_t>(group_sums[g] - 32 * zero);
        } else {
          t.zeros[dst] = q.zeros[r * t.groups + g];
        }
      }
    }
  });
  return t;
}

}  // namespace accllm
