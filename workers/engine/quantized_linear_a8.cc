#include "workers/engine/quantized_linear_a8.h"

#include <utility>

#include "quant/a8.h"                 // QuantizeA8
#include "quant/reference_matvec.h"   // MatVecA8, MatVecA16
#include "workers/cpu/gemm_group.h"   // GemmA8Group
#include "workers/cpu/prepared_a8.h"  // QuantizePrepareA8

namespace accllm {

QuantizedLinearA8::QuantizedLinearA8(QuantizedLinear q, int activation_bits,
                                     std::shared_ptr<SharedThreadPool> pool, bool use_simd)
    : q_(std::move(q)), activation_bits_(activation_bits), pool_(std::move(pool)) {
  view_ = q_.view();
  if (use_simd && activation_bits_ == 8) {
    RunOnPool(pool_.get(), [&](ThreadPool* threads) {
      absl::StatusOr<TiledLinear> tiled = TileLinear(view_, threads);
      if (tiled.ok()) tiled_ = *std::move(tiled);  // else: Unimplemented, keep the oracle
      absl::StatusOr<TiledSparse24> sparse = TileSparse24(view_, threads);
      if (sparse.ok()) sparse24_ = *std::move(sparse);
    });
  }
  if (uses_simd()) {
    // The tiles are the weights now; the packed copy would double the resident memory.
    QuantizedLinear shape_only;
    shape_only.format = q_.format;
    shape_only.layout = q_.layout;
    q_ = std::move(shape_only);
    view_ = q_.view();
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
  const std::optional<GemmJob> job = Job(y);
  if (!job) {
    Linear::ApplyBatch(x, n, y);
    return;
  }
  RunGemmJobs({&*job, 1}, x, n, cols(), prepared_group(), pool_.get());
}

void RunGemmJobs(std::span<const GemmJob> jobs, const float* x, int64_t n, int64_t cols,
                 int64_t group, SharedThreadPool* shared) {
  thread_local PreparedA8 prepared;  // reused: see QuantizePrepareA8
  RunOnPool(shared, [&](ThreadPool* pool) {
    QuantizePrepareA8(x, n, cols, group, prepared, pool);
    GemmA8Group(jobs, prepared, pool);
  });
}

std::optional<GemmJob> QuantizedLinearA8::Job(float* y) const {
  if (activation_bits_ != 8) return std::nullopt;
  if (sparse24_) return GemmJob{.sparse = &*sparse24_, .y = y};
  if (tiled_) return GemmJob{.dense = &*tiled_, .y = y};
  return std::nullopt;
}

}  // namespace accllm
