#include "workers/engine/quantized_linear_a8.h"

#include <utility>

#include "quant/a8.h"                // QuantizeA8
#include "quant/reference_matvec.h"  // MatVecA8, MatVecA16
#include "workers/cpu/gemv_a8.h"     // PrepareA8, GemvA8

namespace accllm {

QuantizedLinearA8::QuantizedLinearA8(QuantizedLinear q, int activation_bits,
                                     std::shared_ptr<SharedThreadPool> pool, bool use_simd)
    : q_(std::move(q)), activation_bits_(activation_bits), pool_(std::move(pool)) {
  view_ = q_.view();
  if (use_simd && activation_bits_ == 8) {
    absl::StatusOr<TiledLinear> tiled = TileLinear(view_);
    if (tiled.ok()) tiled_ = *std::move(tiled);  // else: Unimplemented, keep the oracle
  }
}

void QuantizedLinearA8::Apply(std::span<const float> x, std::span<float> y) const {
  // Sizes were checked at load; the kernels' errors cannot happen here.
  if (activation_bits_ != 8) {
    (void)MatVecA16(view_, x, y);
    return;
  }
  const A8Vector xq = QuantizeA8(x);
  if (!tiled_) {
    (void)MatVecA8(view_, xq, y);
    return;
  }
  const PreparedA8 prepared = PrepareA8(xq, tiled_->cols, tiled_->group);
  if (pool_ && pool_->pool.size() > 1) {
    std::unique_lock<std::mutex> lock(pool_->busy, std::try_to_lock);
    if (lock.owns_lock()) {
      GemvA8(*tiled_, prepared, y, &pool_->pool);
      return;
    }
  }
  GemvA8(*tiled_, prepared, y, nullptr);
}

}  // namespace accllm
