// Quantized weights repacked at load time for the CPU kernels: 16 output rows
// per tile, so that each 32-bit lane of a SIMD accumulator is one output row and
// the GEMV needs no horizontal sums (one u8×s8 dot of 4 columns per lane per step).
//
// Tile t covers rows [16t, 16t+16) (the last tile padded with zero rows); columns
// are padded to a multiple of 16 with zero codes (x is padded with zeros too).
// For each 16-column chunk c of a tile, `bits/2` 64-byte blocks hold the codes:
//   block q, byte 4r + i, bits [b·j, b·j + b)  =  code of row r, column 16c + 4k + i,
//   where k = q·(8/b) + j  (b = bits; k = 0..3 is the 4-column step within the chunk).
// So `(block >> b·j) & (2^b − 1)` yields, for step k, 16 rows × 4 columns of codes in
// exactly the byte order a u8×s8→i32 dot product (x86 VPMADDUBSW/VPDPBUSD, Arm SDOT)
// wants, against the 4 activation bytes of step k broadcast to every lane.
// Scales and zeros: fp16, [tiles, groups, 16].
#ifndef ACCLLM_WORKERS_CPU_TILED_LINEAR_H_
#define ACCLLM_WORKERS_CPU_TILED_LINEAR_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"           // absl::StatusOr
#include "quant/quantized_linear.h"         // QuantizedLinearView
#include "workers/cpu/aligned_allocator.h"  // AlignedVector

namespace accllm {

class ThreadPool;

inline constexpr int kTileRows = 16;
inline constexpr int kChunkCols = 16;

struct TiledLinear {
  int bits = 2;
  int64_t rows = 0, cols = 0;
  int64_t tiles = 0;             // ceil(rows / 16)
  int64_t chunks = 0;            // ceil(cols / 16)
  int64_t group = 64;            // columns per group (a multiple of 16)
  int64_t groups = 0;            // ceil(cols / group)
  int64_t chunk_bytes = 0;       // 32 · bits
  AlignedVector<uint8_t> codes;  // [tiles, chunks, chunk_bytes], 64-byte aligned
  std::vector<uint16_t> scales;  // [tiles, groups, 16] fp16
  std::vector<uint16_t> zeros;   // [tiles, groups, 16] fp16

  const uint8_t* tile_codes(int64_t t) const { return codes.data() + t * chunks * chunk_bytes; }
  int64_t bytes() const {
    return static_cast<int64_t>(codes.size() + 2 * scales.size() + 2 * zeros.size());
  }
};

// Groups a tile kernel asks for ahead of the one it works on: one thread's hardware prefetch
// alone does not keep enough lines in flight to stream at the memory's rate.
inline constexpr int64_t kPrefetchGroups = 8;

// Prefetches group g + kPrefetchGroups of a group-64 tile: its codes (`group_codes` points at
// group g's) and its fp16 scales and zeros (pointers at the tile's group 0).
inline void PrefetchTileGroupAhead(const uint8_t* group_codes, int64_t chunk_bytes,
                                   const uint16_t* scales, const uint16_t* zeros, int64_t g) {
  for (int64_t line = 0; line < 4 * chunk_bytes; line += 64) {
    __builtin_prefetch(group_codes + kPrefetchGroups * 4 * chunk_bytes + line, 0, 3);
  }
  __builtin_prefetch(scales + (g + kPrefetchGroups) * 16, 0, 3);
  __builtin_prefetch(zeros + (g + kPrefetchGroups) * 16, 0, 3);
}

// Dense uniform layers with 2, 4 or 8 bits and group % 16 == 0 tile; anything
// else is Unimplemented (the caller keeps the scalar reference kernel for it). `pool` (may be
// null) splits the tiles: loading a 1B model spends most of its time here.
absl::StatusOr<TiledLinear> TileLinear(const QuantizedLinearView& q, ThreadPool* pool = nullptr);

}  // namespace accllm

#endif  // ACCLLM_WORKERS_CPU_TILED_LINEAR_H_
