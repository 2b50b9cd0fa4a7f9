#include "workers/fpga/cost/hbm_traffic.h"

#include <algorithm>
#include <string_view>

#include "absl/strings/str_cat.h"  // absl::StrCat
#include "model/tensor_names.h"    // LinearName, LinearShape, kAllLayerLinears
#include "quant/kv_quant.h"        // KvCodeBytes
#include "quant/weight_format.h"   // ComputePackedLayout
#include "model/attention_window_check.h"  // ValidateAttentionWindow

namespace accllm::fpga {
namespace {

// Bytes of a [rows, dim] table stored at `bits` (8: int8 + fp16 row scales).
int64_t TableBytes(int bits, int64_t rows, int64_t dim) {
  if (bits == 8) return rows * dim + rows * 2;
  return rows * dim * (bits / 8);
}

}  // namespace

std::string LinearPrefix(int layer, int linear_index) {
  std::string name = LinearName(layer, kAllLayerLinears[linear_index]);
  constexpr std::string_view kSuffix = ".weight";
  if (name.size() > kSuffix.size() &&
      std::string_view(name).substr(name.size() - kSuffix.size()) == kSuffix) {
    name.resize(name.size() - kSuffix.size());
  }
  return name;
}

absl::StatusOr<int64_t> LinearBytes(const WeightFormat* format, int64_t rows, int64_t cols) {
  if (format == nullptr) return rows * cols * 2;
  absl::StatusOr<PackedLayout> layout = ComputePackedLayout(*format, rows, cols);
  if (!layout.ok()) return layout.status();
  return layout->total_bits() / 8;  // every term of total_bits is whole bytes
}

int64_t KvPositionBytes(const KvFormat& kv, int64_t head_dim, int64_t position) {
  if (kv.QuantizedAt(position)) return 2 * (KvCodeBytes(head_dim, kv.bits) + 4);
  return 2 * (2 * head_dim);
}

int64_t AttendedPositions(const AttentionWindow& window, int64_t context) {
  if (window.dense) return context;
  return std::min<int64_t>(context, int64_t{window.sinks} + window.window);
}

absl::StatusOr<HbmBytes> DecodeStepBytes(const ModelConfig& model, const QuantizationConfig& quant,
                                         const AttentionWindow& window, int64_t context,
                                         int64_t batch) {
  if (absl::Status s = ValidateConfig(model); !s.ok()) return s;
  if (absl::Status s = ValidateAttentionWindow(window); !s.ok()) return s;
  if (context < 1) return absl::InvalidArgumentError(absl::StrCat("context must be >= 1, got ", context));
  if (batch < 1) return absl::InvalidArgumentError(absl::StrCat("batch must be >= 1, got ", batch));
  HbmBytes b;
  for (int l = 0; l < model.n_layers; ++l) {
    for (int i = 0; i < static_cast<int>(std::size(kAllLayerLinears)); ++i) {
      const MatrixShape shape = LinearShape(model, kAllLayerLinears[i]);
      absl::StatusOr<int64_t> bytes =
          LinearBytes(quant.LayerFormat(LinearPrefix(l, i)), shape.rows, shape.cols);
      if (!bytes.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(LinearPrefix(l, i), ": ",
                                                       std::string(bytes.status().message())));
      }
      b.weights += *bytes;
    }
  }
  const int head_bits = model.tie_embeddings ? quant.embedding_bits : quant.lm_head_bits;
  b.head = TableBytes(head_bits, model.vocab_size, model.dim);
  b.embedding = batch * TableBytes(quant.embedding_bits, 1, model.dim);
  b.norms = (2 * static_cast<int64_t>(model.n_layers) + 1) * model.dim * 4;

  // Walk the attended positions of t = context - 1 in the two runs Λ reads: the sinks
  // [0, min(S, context)) and the window [WindowStart(t), t]; dense reads [0, t].
  const int64_t t = context - 1;
  const int64_t head_dim = model.head_dim();
  auto range_bytes = [&](int64_t begin, int64_t end) {  // positions [begin, end)
    if (end <= begin) return int64_t{0};
    // Positions below sink_tokens are fp16; the rest share one size.
    const int64_t fp16_end = std::clamp<int64_t>(quant.kv_cache.sink_tokens, begin, end);
    return (fp16_end - begin) * KvPositionBytes(quant.kv_cache, head_dim, begin) +
           (end - fp16_end) * KvPositionBytes(quant.kv_cache, head_dim, end - 1);
  };
  int64_t per_head = 0;
  if (window.dense) {
    per_head = range_bytes(0, context);
  } else {
    const int64_t window_start = window.WindowStart(t);
    per_head = range_bytes(0, std::min<int64_t>(window.sinks, context)) +
               range_bytes(window_start, context);
  }
  const int64_t heads = int64_t{model.n_layers} * model.n_kv_heads;
  b.kv_read = batch * heads * per_head;
  b.kv_write = batch * heads * KvPositionBytes(quant.kv_cache, head_dim, t);
  return b;
}

QuantizationConfig UniformQuantization(const ModelConfig& model, const WeightFormat& format,
                                       int activation_bits, const KvFormat& kv) {
  QuantizationConfig q;
  q.weights = format;
  q.activation_bits = activation_bits;
  q.kv_cache = kv;
  for (int l = 0; l < model.n_layers; ++l) {
    for (int i = 0; i < static_cast<int>(std::size(kAllLayerLinears)); ++i) {
      q.layers[LinearPrefix(l, i)] = format;
    }
  }
  return q;
}

}  // namespace accllm::fpga
