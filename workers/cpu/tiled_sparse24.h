// 2:4-sparse W2 weights repacked at load time for the CPU kernels (gemm_a8_sparse24.h).
// Tiles of 16 output rows as in tiled_linear.h; along the input, a step covers 8 columns
// (two blocks of 4), in which every row keeps exactly 4 weights: kept weight i (0..3, in
// column order) lies in block i / 2 of the step. Per tile and 64-column group (8 steps),
// two 64-byte code blocks and two 64-byte position blocks:
//   block q, byte 4r + i, bits [2j, 2j + 2) = code (resp. position 0..3 inside its block
//   of 4) of row r's kept weight i in step m = 4q + j.
// So the kernel unpacks 16 rows × 4 codes per step exactly like the dense W2 tiles, and
// the positions become byte indices (8m + 4·(i / 2) + position) that gather each row's
// 4 activations out of the group's 64 (VPERMB) for a u8×s8 dot. The same bytes per weight
// as the packed 2:4 format (2-bit codes + the positions in place of the 4-bit masks).
#ifndef ACCLLM_WORKERS_CPU_TILED_SPARSE24_H_
#define ACCLLM_WORKERS_CPU_TILED_SPARSE24_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"           // absl::StatusOr
#include "quant/quantized_linear.h"         // QuantizedLinearView
#include "workers/cpu/aligned_allocator.h"  // AlignedVector
#include "workers/cpu/tiled_linear.h"       // kPrefetchGroups

namespace accllm {

struct TiledSparse24 {
  int64_t rows = 0, cols = 0;
  int64_t tiles = 0;                 // ceil(rows / 16)
  int64_t groups = 0;                // cols / 64
  AlignedVector<uint8_t> codes;      // [tiles, groups, 2, 64]
  AlignedVector<uint8_t> positions;  // [tiles, groups, 2, 64]
  std::vector<uint16_t> scales;      // [tiles, groups, 16] fp16
  std::vector<uint16_t> zeros;       // [tiles, groups, 16] fp16; empty with integer zeros
  // Zeros are integers in 0..3 (ZeroPoint::kInteger): the kernel multiplies c - z, and they
  // are stored in their 2 bits, row r at bits [2r, 2r + 2) of one word per tile and group
  // ([tiles, groups]): 4 bytes where fp16 took 32, so a 2:4 W2 tile group streams 292 bytes
  // per 1024 weights against dense W2's 320.
  bool integer_zeros = false;
  std::vector<uint32_t> zero_codes;
  // Integer zeros: Σ(c − z) over each row's 32 kept weights of a group, [tiles, groups, 16]
  // (the AVX2 kernel's +128 correction; summing it per step cost one multiply in nine).
  // Read by multi-token steps only, so not counted in bytes().
  std::vector<int16_t> code_zero_sums;

  int64_t bytes() const {
    return static_cast<int64_t>(codes.size() + positions.size() + 2 * scales.size() +
                                2 * zeros.size() + 4 * zero_codes.size());
  }
};

// A tile's zero points, one of the two forms (pointers at the tile's group 0).
struct Sparse24Zeros {
  const uint16_t* halves = nullptr;  // fp16 [groups, 16], or null: integer zeros
  const uint32_t* codes = nullptr;   // integer zeros: 2 bits per row, [groups]

  static Sparse24Zeros OfTile(const TiledSparse24& w, int64_t t) {
    if (w.integer_zeros) return {nullptr, w.zero_codes.data() + t * w.groups};
    return {w.zeros.data() + t * w.groups * 16, nullptr};
  }
  // Row r's zero in group g (the scalar form the kernels' vectors reproduce).
  float Zero(int64_t g, int r) const;
};

// Prefetches group g + kPrefetchGroups (tiled_linear.h) of one tile: codes, positions, scales
// and zeros (pointers at the tile's group 0).
inline void PrefetchSparse24GroupAhead(const uint8_t* codes, const uint8_t* positions,
                                       const uint16_t* scales, const Sparse24Zeros& zeros,
                                       int64_t g) {
  const int64_t ahead = g + kPrefetchGroups;
  for (int line = 0; line < 2; ++line) {
    __builtin_prefetch(codes + ahead * 128 + line * 64, 0, 3);
    __builtin_prefetch(positions + ahead * 128 + line * 64, 0, 3);
  }
  __builtin_prefetch(scales + ahead * 16, 0, 3);
  if (zeros.halves != nullptr) {
    __builtin_prefetch(zeros.halves + ahead * 16, 0, 3);
  } else {
    __builtin_prefetch(zeros.codes + ahead, 0, 3);
  }
}

// Uniform W2 2:4 with group 64 and cols % 64 == 0; anything else is Unimplemented (the
// caller keeps the scalar oracle). `pool` (may be null) splits the tiles.
absl::StatusOr<TiledSparse24> TileSparse24(const QuantizedLinearView& q,
                                           ThreadPool* pool = nullptr);

}  // namespace accllm

#endif  // ACCLLM_WORKERS_CPU_TILED_SPARSE24_H_
