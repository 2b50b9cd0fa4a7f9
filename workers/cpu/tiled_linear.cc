#include "workers/cpu/tiled_linear.h"

#include <algorithm>  // std::min
#include <vector>

#include "absl/status/status.h"       // absl::UnimplementedError
#include "absl/strings/str_cat.h"     // absl::StrCat
#include "workers/cpu/thread_pool.h"  // ForEachTile

namespace accllm {
namespace {

// Writes one row's codes (one byte each, chunks · 16 of them, zero past the columns) into its
// lane of a tile: byte i of block q holds, at bit kBits·j, the code of column 4k + i of each
// chunk, k = q · (8 / kBits) + j (the layout in tiled_linear.h). Each byte is assembled in a
// register and stored once, at compile-time widths: loading spends its time here.
template <int kBits>
void WriteRowIntoTile(const uint8_t* codes, int64_t chunks, int64_t chunk_bytes,
                      uint8_t* lane_codes) {
  constexpr int kPerByte = 8 / kBits;
  for (int64_t chunk = 0; chunk < chunks; ++chunk) {
    const uint8_t* c = codes + chunk * kChunkCols;
    for (int q = 0; q < kBits / 2; ++q) {
      for (int i = 0; i < 4; ++i) {
        unsigned byte = 0;
        for (int j = 0; j < kPerByte; ++j) byte |= c[4 * (q * kPerByte + j) + i] << (kBits * j);
        lane_codes[chunk * chunk_bytes + q * 64 + i] = static_cast<uint8_t>(byte);
      }
    }
  }
}

}  // namespace

absl::StatusOr<TiledLinear> TileLinear(const QuantizedLinearView& q, ThreadPool* pool) {
  const WeightFormat& f = q.format;
  if (f.scheme != WeightScheme::kUniform || f.sparsity != Sparsity::kDense ||
      !(f.bits == 2 || f.bits == 4 || f.bits == 8) || f.group % kChunkCols != 0) {
    return absl::UnimplementedError(absl::StrCat("no tiled CPU kernel for ", f.ToString(),
                                                 " (dense uniform 2/4/8-bit, group "
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

  // Tiles write disjoint bytes, so threads split them; each unpacks one row at a time.
  ForEachTile(pool, t.tiles, [&](int64_t begin, int64_t end, int) {
    std::vector<uint8_t> codes(static_cast<size_t>(t.chunks * kChunkCols), 0);  // zero padded
    for (int64_t r = begin * kTileRows; r < std::min(end * kTileRows, t.rows); ++r) {
      UnpackLinearRow(q, r, codes, {});
      const int64_t tile = r / kTileRows, lane = r % kTileRows;
      uint8_t* lane_codes = t.codes.data() + tile * t.chunks * t.chunk_bytes + lane * 4;
      switch (t.bits) {
        case 2:
          WriteRowIntoTile<2>(codes.data(), t.chunks, t.chunk_bytes, lane_codes);
          break;
        case 4:
          WriteRowIntoTile<4>(codes.data(), t.chunks, t.chunk_bytes, lane_codes);
          break;
        default:
          WriteRowIntoTile<8>(codes.data(), t.chunks, t.chunk_bytes, lane_codes);
          break;
      }
      for (int64_t g = 0; g < t.groups; ++g) {
        const size_t dst = (tile * t.groups + g) * kTileRows + lane;
        t.scales[dst] = q.scales[r * t.groups + g];
        t.zeros[dst] = q.zeros[r * t.groups + g];
      }
    }
  });
  return t;
}

}  // namespace accllm
