#include "common/model_limits.h"

#include <algorithm>

namespace accllm {

scheduler::ModelLimits LimitsFor(const ModelConfig& config) {
  scheduler::ModelLimits limits;
  limits.vocab_size = config.vocab_size;
  limits.max_dense_context = config.max_seq_len;
  limits.default_attention = AttentionWindow::Lambda(4, std::min(1024, config.max_seq_len));
  return limits;
}

}  // namespace accllm
