#include "workers/engine/quantized_linear_a8.h"

#include <utility>

#include "quant/a8.h"                // QuantizeA8
#include "quant/reference_matvec.h"  // MatVecA8, MatVecA16
#include "workers/cpu/gemm_a8.h"     // QuantizePrepareA8, GemmA8
#include "workers/cpu/gemm_a8_sparse24.h"  // GemmA8Sparse24

namespace accllm {

QuantizedLinearA8::QuantizedLinearA8(QuantizedLinear q, int activation_bits,
                                     std::shared_ptr<SharedThreadPool> pool, bool use_simd)
    : q_(std::move(q)), activation_bits_(activation_bits), pool_(std::move(pool)) {
  view_ = q_.view();
  if (use_simd && activation_bits_ == 8) {
    absl::StatusOr<TiledLinear> tiled = TileLinear(view_);
    if (tiled.ok()) tiled_ = *std::move(tiled);  // else: Unimplemented, keep the oracle
    absl::StatusOr<TiledSparse24> sparse = TileSparse24(view_);
    if (sparse.ok()) sparse24_ = *std::move(sparse);
  }
}

void QuantizedLinearA8::Apply(std::span<const float> x, std::span<float> y) const {
  // Sizes were checked at load; the kernels' errors cannot happen here.
  if (activation_bits_ != 8) {
    (void)MatVecA16(view_, x, y);
    return;
  }
  if (!uses_simd()) {
    (void)MatVecA8(view_, QuantizeA8(x), y);
    return;
  }
  ApplyBatch(x.data(), 1, y.data());
}

void QuantizedLinearA8::ApplyBatch(const float* x, int64_t n, float* y) const {
  if (activation_bits_ != 8 || !uses_simd()) {
    Linear::ApplyBatch(x, n, y);
    return;
  }
  thread_local PreparedA8 prepared;  // reused: see QuantizePrepareA8
  if (sparse24_) {
    RunOnPool(pool_.get(), [&](ThreadPool* pool) {
      QuantizePrepareA8(x, n, sparse24_->cols, 64, prepared, pool);
      GemmA8Sparse24(*sparse24_, prepared, y, pool);
    });
    return;
  }
  RunOnPool(pool_.get(), [&](ThreadPool* pool) {
    QuantizePrepareA8(x, n, tiled_->cols, tiled_->group, prepared, pool);
    GemmA8(*tiled_, prepared, y, pool);
  });
}

std::optional<GemmJob> QuantizedLinearA8::Job(float* y) const {
  if (activation_bits_ != 8) return std::nullopt;
  if (sparse24_) return GemmJob{.sparse = &*sparse24_, .y = y};
  if (tiled_) return GemmJob{.dense = &*tiled_, .y = y};
  return std::nullopt;
}

}  // namespace accllm
