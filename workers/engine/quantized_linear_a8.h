// A quantized linear layer as the decoder's Linear: packed W2/W3/W4/W8 (uniform
// or pow2, dense or 2:4) with real A8 activations (per-token int8, int32
// accumulation) or float activations (A16). The A8 path runs the tiled SIMD GEMM
// (workers/cpu/gemm_a8.h: dense uniform 2/4/8-bit, group % 16 == 0;
// gemm_a8_sparse24.h: W2 2:4 group 64) when the layer tiles, the scalar oracle
// MatVecA8 otherwise; both give the same bits. ApplyBatch reads the weights once for n tokens.
#ifndef ACCLLM_WORKERS_ENGINE_QUANTIZED_LINEAR_A8_H_
#define ACCLLM_WORKERS_ENGINE_QUANTIZED_LINEAR_A8_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>

#include "quant/quantized_linear.h"    // QuantizedLinear
#include "workers/cpu/gemm_group.h"     // GemmJob
#include "workers/cpu/tiled_linear.h"  // TiledLinear
#include "workers/cpu/tiled_sparse24.h"  // TiledSparse24
#include "workers/engine/linear.h"     // Linear
#include "workers/engine/shared_thread_pool.h"  // SharedThreadPool

namespace accllm {

class QuantizedLinearA8 : public Linear {
 public:
  // activation_bits: 8 (A8) or 16. `pool` may be null (one thread); `use_simd`
  // false forces the scalar oracle (tests compare the two).
  QuantizedLinearA8(QuantizedLinear q, int activation_bits, std::shared_ptr<SharedThreadPool> pool,
                    bool use_simd);

  int64_t rows() const override { return q_.layout.rows; }
  int64_t cols() const override { return q_.layout.cols; }
  void Apply(std::span<const float> x, std::span<float> y) const override;
  void ApplyBatch(const float* x, int64_t n, float* y) const override;
  int64_t weight_bytes() const override {
    return tiled_ ? tiled_->bytes() : sparse24_ ? sparse24_->bytes() : q_.layout.total_bits() / 8;
  }

  bool uses_simd() const { return tiled_.has_value() || sparse24_.has_value(); }
  // This layer as one job of a GemmA8Group writing y (linear_group.h), when it runs the
  // tiled A8 kernels; with the group size its activations are prepared for.
  std::optional<GemmJob> Job(float* y) const;
  int64_t prepared_group() const { return tiled_ ? tiled_->group : 64; }
  SharedThreadPool* pool() const { return pool_.get(); }

 private:
  QuantizedLinear q_;          // packed tensors released once tiled (layout and format stay)
  QuantizedLinearView view_;  // into q_
  int activation_bits_;
  std::shared_ptr<SharedThreadPool> pool_;
  std::optional<TiledLinear> tiled_;        // dense layers
  std::optional<TiledSparse24> sparse24_;   // W2 2:4 layers
};

// The jobs' outputs for x [n, cols]: x quantized to A8 once (prepared for `group`), then
// every job's row tiles in one dispatch of `shared`'s threads (null: this thread).
void RunGemmJobs(std::span<const GemmJob> jobs, const float* x, int64_t n, int64_t cols,
                 int64_t group, SharedThreadPool* shared);

}  // namespace accllm

#endif  // ACCLLM_WORKERS_ENGINE_QUANTIZED_LINEAR_A8_H_
