#include "scheduler/stop_rules.h"

#include <algorithm>  // std::find, std::equal, std::min
#include <utility>    // std::move

namespace accllm::scheduler {

StopRules::StopRules(int64_t max_tokens, std::vector<int32_t> stop_token_ids,
                     std::vector<std::vector<int32_t>> stop_sequences)
    : max_tokens_(max_tokens),
      stop_token_ids_(std::move(stop_token_ids)),
      stop_sequences_(std::move(stop_sequences)) {}

void StopRules::EmitFront(size_t count, std::vector<int32_t>& out) {
  out.insert(out.end(), held_.begin(), held_.begin() + count);
  held_.erase(held_.begin(), held_.begin() + count);
  emitted_ += static_cast<int64_t>(count);
}

size_t StopRules::LongestPendingSuffix() const {
  size_t best = 0;
  for (const std::vector<int32_t>& seq : stop_sequences_) {
    if (seq.empty()) continue;  // rejected by validation; never matches
    const size_t max_len = std::min(held_.size(), seq.size() - 1);
    for (size_t len = max_len; len > best; --len) {
      if (std::equal(held_.end() - len, held_.end(), seq.begin())) {
        best = len;
        break;
      }
    }
  }
  return best;
}

StopRules::Outcome StopRules::OnToken(int32_t token) {
  Outcome out;
  if (done_) return out;
  ++generated_;
  if (std::find(stop_token_ids_.begin(), stop_token_ids_.end(), token) != stop_token_ids_.end()) {
    EmitFront(held_.size(), out.emit);
    out.finish = FinishReason::kStop;
    done_ = true;
    return out;
  }
  held_.push_back(token);
  // A completed stop sequence: emit what precedes it (the longest match
  // starts earliest, so it hides the most).
  size_t matched = 0;
  for (const std::vector<int32_t>& seq : stop_sequences_) {
    if (!seq.empty() && seq.size() <= held_.size() && seq.size() > matched &&
        std::equal(seq.begin(), seq.end(), held_.end() - seq.size())) {
      matched = seq.size();
    }
  }
  if (matched > 0) {
    EmitFront(held_.size() - matched, out.emit);
    held_.clear();
    out.finish = FinishReason::kStop;
    done_ = true;
    return out;
  }
  EmitFront(held_.size() - LongestPendingSuffix(), out.emit);
  if (generated_ >= max_tokens_) {
    EmitFront(held_.size(), out.emit);
    out.finish = FinishReason::kLength;
    done_ = true;
  }
  return out;
}

std::vector<int32_t> StopRules::Flush() {
  std::vector<int32_t> out;
  EmitFront(held_.size(), out);
  return out;
}

}  // namespace accllm::scheduler
