#include "workers/cpu/tiled_linear.h"

#include "absl/status/status.h"    // absl::UnimplementedError
#include "absl/strings/str_cat.h"  // absl::StrCat

namespace accllm {

absl::StatusOr<TiledLinear> TileLinear(const QuantizedLinearView& q) {
  const WeightFormat& f = q.format;
  if (f.scheme != WeightScheme::kUniform || f.sparsity != Sparsity::kDense ||
      !(f.bits == 2 || f.bits == 4 || f.bits == 8) || f.group % kChunkCols != 0) {
    return absl::UnimplementedError(
        absl::StrCat("no tiled CPU kernel for ", f.ToString(), " (dense uniform 2/4/8-bit, group "
                     "a multiple of 16 have one)"));
  }
  TiledLinear t;
  t.bits = f.bits;
  t.rows = q.layout.rows;
  t.cols = q.layout.cols;
  t.tiles = (t.rows + kTileRows - 1) / kTileRows;
  t.chunks = (t.cols + kChunkCols - 1) / kChunkCols;
  t.group = f.group;
  t.groups = q.layout.num_groups;
  t.chunk_bytes = 32 * t.bits;
  t.codes.assign(t.tiles * t.chunks * t.chunk_bytes, 0);
  t.scales.assign(t.tiles * t.groups * kTileRows, 0);
  t.zeros.assign(t.tiles * t.groups * kTileRows, 0);

  const UnpackedLinear u = UnpackLinear(q);  // one code per weight: simplest to re-tile from
  const int per_byte = 8 / t.bits;
  for (int64_t r = 0; r < t.rows; ++r) {
    const int64_t tile = r / kTileRows, lane = r % kTileRows;
    for (int64_t col = 0; col < t.cols; ++col) {
      const uint8_t code = u.codes[r * t.cols + col];
      const int64_t chunk = col / kChunkCols, within = col % kChunkCols;
      const int k = static_cast<int>(within / 4), i = static_cast<int>(within % 4);
      const int block = k / per_byte, j = k % per_byte;
      uint8_t& byte =
          t.codes[(tile * t.chunks + chunk) * t.chunk_bytes + block * 64 + lane * 4 + i];
      byte |= static_cast<uint8_t>(code << (t.bits * j));
    }
    for (int64_t g = 0; g < t.groups; ++g) {
      const size_t dst = (tile * t.groups + g) * kTileRows + lane;
      t.scales[dst] = q.scales[r * t.groups + g];
      t.zeros[dst] = q.zeros[r * t.groups + g];
    }
  }
  return t;
}

}  // namespace accllm
