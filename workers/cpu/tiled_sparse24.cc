#include "workers/cpu/tiled_sparse24.h"

#include "absl/status/status.h"    // absl::UnimplementedError
#include "absl/strings/str_cat.h"  // absl::StrCat
#include "model/dtype.h"           // HalfToFloat

namespace accllm {

absl::StatusOr<TiledSparse24> TileSparse24(const QuantizedLinearView& q) {
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
  t.zeros.assign(t.scales.size(), 0);
  if (t.integer_zeros) t.code_zero_sums.assign(t.scales.size(), 0);
  const UnpackedLinear u = UnpackLinear(q);  // one code and keep flag per weight
  for (int64_t r = 0; r < t.rows; ++r) {
    const int64_t tile = r / 16, lane = r % 16;
    for (int64_t b = 0; b < t.cols / 4; ++b) {  // blocks of 4 columns
      const int64_t g = b / 16, m = (b % 16) / 2, q_block = m / 4, j = m % 4;
      int kept = 0;
      for (int p = 0; p < 4; ++p) {
        const int64_t col = 4 * b + p;
        if (!u.keep[r * t.cols + col]) continue;
        const int64_t i = 2 * (b % 2) + kept++;  // exactly two kept per block (validated)
        const size_t byte = (tile * t.groups + g) * 128 + q_block * 64 + lane * 4 + i;
        t.codes[byte] |= static_cast<uint8_t>(u.codes[r * t.cols + col] << (2 * j));
        t.positions[byte] |= static_cast<uint8_t>(p << (2 * j));
      }
    }
    for (int64_t g = 0; g < t.groups; ++g) {
      const size_t dst = (tile * t.groups + g) * 16 + lane;
      t.scales[dst] = q.scales[r * t.groups + g];
      t.zeros[dst] = q.zeros[r * t.groups + g];
      if (t.integer_zeros) {
        int sum = 0;
        for (int64_t col = 64 * g; col < 64 * (g + 1); ++col) {
          if (u.keep[r * t.cols + col]) sum += u.codes[r * t.cols + col];
        }
        // 32 kept weights per row and group; the zero is an integer (validated at load).
        t.code_zero_sums[dst] =
            static_cast<int16_t>(sum - 32 * static_cast<int>(HalfToFloat(t.zeros[dst])));
      }
    }
  }
  return t;
}

}  // namespace accllm
