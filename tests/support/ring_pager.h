// A minimal Λ page allocator for engine tests (independent of the scheduler's):
// pages on demand from a free list, so physical ids are recycled in a ring;
// sink pages pinned; a page returned as soon as all its positions fell out of
// every future query's window.
#ifndef ACCLLM_TESTS_SUPPORT_RING_PAGER_H_
#define ACCLLM_TESTS_SUPPORT_RING_PAGER_H_

#include <algorithm>
#include <deque>
#include <map>

#include "absl/status/status.h"               // absl::ResourceExhaustedError
#include "model/attention_window.h"          // AttentionWindow
#include "workers/engine/paged_kv.h"          // SequencePager

namespace accllm::testing {

class RingPager : public SequencePager {
 public:
  RingPager(int32_t num_pages, int32_t page_size, AttentionWindow w) : p_(page_size), w_(w) {
    for (int32_t i = 0; i < num_pages; ++i) free_.push_back(i);
  }

  absl::StatusOr<std::vector<PageRef>> PagesForChunk(int64_t begin, int64_t end) override {
    Release(w_.WindowStart(begin));
    for (int64_t l = begin / p_; l <= (end - 1) / p_; ++l) {
      if (live_.count(l)) continue;
      if (free_.empty()) return absl::ResourceExhaustedError("test pager ran dry");
      live_[l] = free_.front();
      free_.pop_front();
    }
    max_live_ = std::max<int64_t>(max_live_, static_cast<int64_t>(live_.size()));
    std::vector<PageRef> table;
    for (auto [l, phys] : live_) table.push_back({l, phys});
    return table;
  }
  int64_t max_pages_held() const override { return max_live_; }

 private:
  void Release(int64_t window_start) {
    if (w_.dense) return;
    for (auto it = live_.begin(); it != live_.end();) {
      const bool sink_page = it->first * p_ < w_.sinks;
      if (!sink_page && (it->first + 1) * p_ - 1 < window_start) {
        free_.push_back(it->second);
        it = live_.erase(it);
      } else {
        ++it;
      }
    }
  }

  int32_t p_;
  AttentionWindow w_;
  std::deque<int32_t> free_;
  std::map<int64_t, int32_t> live_;
  int64_t max_live_ = 0;
};

}  // namespace accllm::testing

#endif  // ACCLLM_TESTS_SUPPORT_RING_PAGER_H_
