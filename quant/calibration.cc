#include "quant/calibration.h"

#include <algorithm>  // std::fill, std::max, std::min
#include <cmath>      // std::sqrt
#include <fstream>    // std::ifstream
#include <string>

#include "absl/strings/numbers.h"    // absl::SimpleAtoi
#include "absl/strings/str_cat.h"    // absl::StrCat
#include "absl/strings/str_split.h"  // absl::StrSplit
#include "quant/dense_kernels.h"     // GemmAccumulate, DotProduct

namespace accllm {
namespace {
constexpr int kInputsPerLayer = 4;
}  // namespace

LinearInput InputOf(LayerLinear linear) {
  switch (linear) {
    case LayerLinear::kQ:
    case LayerLinear::kK:
    case LayerLinear::kV:
      return LinearInput::kAttnIn;
    case LayerLinear::kO:
      return LinearInput::kAttnOut;
    case LayerLinear::kGate:
    case LayerLinear::kUp:
      return LinearInput::kFfnIn;
    case LayerLinear::kDown:
      break;
  }
  return LinearInput::kFfnHidden;
}

bool IsFirstOfInput(LayerLinear linear) {
  return linear == LayerLinear::kQ || linear == LayerLinear::kO || linear == LayerLinear::kGate ||
         linear == LayerLinear::kDown;
}

CalibrationStats::CalibrationStats(const ModelConfig& config) : n_layers_(config.n_layers) {
  for (int32_t l = 0; l < n_layers_; ++l) {
    for (int64_t cols : {config.dim, config.dim, config.dim, config.hidden_dim}) {
      fit_.emplace_back(cols);
      held_out_.emplace_back(cols);
    }
  }
}

size_t CalibrationStats::Index(int32_t layer, LayerLinear linear) const {
  return static_cast<size_t>(layer * kInputsPerLayer + static_cast<int>(InputOf(linear)));
}

absl::Status CalibrationStats::Add(int32_t layer, LayerLinear linear, std::span<const float> x,
                                   bool held_out) {
  if (layer < 0 || layer >= n_layers_) {
    return absl::InvalidArgumentError(absl::StrCat("calibration: no decoder layer ", layer));
  }
  if (!IsFirstOfInput(linear)) return absl::OkStatus();
  HessianAccumulator& acc = held_out ? held_out_[Index(layer, linear)] : fit_[Index(layer, linear)];
  return acc.Add(x, 1);
}

absl::Status CalibrationStats::AddRows(int32_t layer, LayerLinear linear, std::span<const float> x,
                                       int64_t samples, bool held_out) {
  if (layer < 0 || layer >= n_layers_) {
    return absl::InvalidArgumentError(absl::StrCat("calibration: no decoder layer ", layer));
  }
  if (!IsFirstOfInput(linear)) return absl::OkStatus();
  HessianAccumulator& acc = held_out ? held_out_[Index(layer, linear)] : fit_[Index(layer, linear)];
  return acc.Add(x, samples);
}

const HessianAccumulator& CalibrationStats::Fit(int32_t layer, LayerLinear linear) const {
  return fit_[Index(layer, linear)];
}
const HessianAccumulator& CalibrationStats::HeldOut(int32_t layer, LayerLinear linear) const {
  return held_out_[Index(layer, linear)];
}
int64_t CalibrationStats::fit_tokens() const { return fit_.empty() ? 0 : fit_[0].samples(); }
int64_t CalibrationStats::held_out_tokens() const {
  return held_out_.empty() ? 0 : held_out_[0].samples();
}

absl::StatusOr<std::vector<std::vector<int32_t>>> ReadCalibrationFile(
    const std::filesystem::path& path, int32_t vocab_size, int32_t max_len) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open calibration file ", path.string()));
  std::vector<std::vector<int32_t>> sequences;
  std::string line;
  for (int line_no = 1; std::getline(in, line); ++line_no) {
    std::vector<int32_t> ids;
    for (absl::string_view item :
         absl::StrSplit(line, absl::ByAnyChar(" \t\r,"), absl::SkipEmpty())) {
      int32_t id;
      if (!absl::SimpleAtoi(item, &id) || id < 0 || id >= vocab_size) {
        return absl::InvalidArgumentError(absl::StrCat(path.string(), ":", line_no, ": \"", item,
                                                       "\" is not a token id in [0, ", vocab_size,
                                                       ")"));
      }
      ids.push_back(id);
    }
    if (ids.empty()) continue;
    if (static_cast<int64_t>(ids.size()) > max_len) {
      return absl::InvalidArgumentError(absl::StrCat(path.string(), ":", line_no, ": ", ids.size(),
                                                     " tokens, the model's context is ", max_len));
    }
    sequences.push_back(std::move(ids));
  }
  if (sequences.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": no token ids"));
  }
  return sequences;
}

std::vector<double> RelativeOutputErrorsFromMoment(std::span<const float> w,
                                                   std::span<const std::span<const float>> w_hats,
                                                   int64_t rows, int64_t cols,
                                                   std::span<const double> h) {
  // sum_r v_r^T H v_r for v = W - W_hat_k (each error) and v = W (the signal, formed once for
  // all of them): V H as a GEMM over blocks of rows, then each row's dot with its own v.
  constexpr int64_t kRowBlock = 64;
  const int64_t kinds = static_cast<int64_t>(w_hats.size()) + 1;  // errors, then the signal
  std::vector<double> sums(static_cast<size_t>(kinds), 0.0);
  std::vector<double> v(static_cast<size_t>(kinds * kRowBlock * cols));
  std::vector<double> vh(v.size());
  for (int64_t r0 = 0; r0 < rows; r0 += kRowBlock) {
    const int64_t m = std::min(kRowBlock, rows - r0);
    for (int64_t r = 0; r < m; ++r) {
      for (int64_t j = 0; j < cols; ++j) {
        const size_t i = static_cast<size_t>((r0 + r) * cols + j);
        for (int64_t k = 0; k + 1 < kinds; ++k) {
          v[static_cast<size_t>((k * m + r) * cols + j)] =
              static_cast<double>(w[i]) - w_hats[static_cast<size_t>(k)][i];
        }
        v[static_cast<size_t>(((kinds - 1) * m + r) * cols + j)] = w[i];
      }
    }
    std::fill(vh.begin(), vh.begin() + kinds * m * cols, 0.0);
    GemmAccumulate(kinds * m, cols, cols, v.data(), cols, h.data(), cols, vh.data(), cols);
    for (int64_t k = 0; k < kinds; ++k) {
      for (int64_t r = 0; r < m; ++r) {
        sums[static_cast<size_t>(k)] +=
            DotProduct(v.data() + (k * m + r) * cols, vh.data() + (k * m + r) * cols, cols);
      }
    }
  }
  const double sig = sums.back();
  std::vector<double> out(w_hats.size());
  for (size_t k = 0; k < out.size(); ++k) {
    const double err = sums[k];
    out[k] = sig <= 0.0 ? (err <= 0.0 ? 0.0 : INFINITY) : std::sqrt(std::max(err, 0.0) / sig);
  }
  return out;
}

double RelativeOutputErrorFromMoment(std::span<const float> w, std::span<const float> w_hat,
                                     int64_t rows, int64_t cols, std::span<const double> h) {
  const std::span<const float> hats[] = {w_hat};
  return RelativeOutputErrorsFromMoment(w, hats, rows, cols, h)[0];
}

}  // namespace accllm
