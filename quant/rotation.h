// Incoherence processing (QuIP, QuaRot, SpinQuant): an orthogonal rotation Q of a linear
// layer's input space. The layer computes W x = (W Q^T)(Q x), so the stored weights become
// W' = W Q^T and the inputs x' = Q x. Outlier input channels are spread over all channels, which
// makes both the weights and the activations easier to quantize. Where the producer of x is
// linear (e.g. the previous projection, after RMSNorm's weight was folded away) Q is folded into
// it (RotateWeightOutputs); elsewhere (e.g. the input of down_proj, after SwiGLU) the engine
// applies Q online to each token (Apply).
//
// Q is a normalized Hadamard transform times random signs, Q = H D (D = diag(+-1) drawn from a
// seed with integer arithmetic only, so every platform regenerates the same Q), when the size is
// a power of two; otherwise a dense random orthogonal matrix, which is not bit-reproducible from
// its seed across platforms: store Matrix() with the model and rebuild it with FromMatrix.
#ifndef ACCLLM_QUANT_ROTATION_H_
#define ACCLLM_QUANT_ROTATION_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"  // absl::StatusOr

namespace accllm {

class Rotation {
 public:
  enum class Kind {
    kHadamard,  // H D (block-diagonal Hadamard, hadamard.h, when n is not a power of two)
    kDense,     // an explicit [n, n] orthogonal matrix
  };

  // H D; seed 0 means D = I (the plain Hadamard transform).
  static Rotation Hadamard(int64_t n, uint64_t seed);
  // Orthonormalized Gaussian matrix (modified Gram-Schmidt in double).
  static Rotation RandomOrthogonal(int64_t n, uint64_t seed);
  // Hadamard when n is a power of two, else RandomOrthogonal: the default for incoherence.
  static Rotation ForSize(int64_t n, uint64_t seed);
  // m [n, n] row-major; rejects a matrix that is not orthogonal (|Q Q^T - I| > 1e-4).
  static absl::StatusOr<Rotation> FromMatrix(std::span<const float> m, int64_t n);

  Kind kind() const { return kind_; }
  int64_t size() const { return n_; }

  void Apply(std::span<float> x) const;           // x [n] <- Q x
  void ApplyTranspose(std::span<float> x) const;  // x [n] <- Q^T x (the inverse)
  // x [tokens, n]: every row x_t <- Q x_t (online rotation of a batch of activations).
  void ApplyToRows(std::span<float> x) const;
  std::vector<float> Matrix() const;  // [n, n]

 private:
  Rotation(Kind kind, int64_t n) : kind_(kind), n_(n) {}

  Kind kind_;
  int64_t n_;
  std::vector<float> signs_;   // [n] kHadamard: D's diagonal
  std::vector<float> matrix_;  // [n, n] kDense
};

// w [rows, n] <- w Q^T: the layer that will receive rotated inputs Q x.
void RotateWeightInputs(const Rotation& q, std::span<float> w);
// w [n, cols] <- Q w: the producer of x now emits Q x.
void RotateWeightOutputs(const Rotation& q, std::span<float> w);

}  // namespace accllm

#endif  // ACCLLM_QUANT_ROTATION_H_
