// A per-worker pool of fixed-size KV pages. Like vLLM's block manager it only
// counts and hands out pages (O(1) allocate/free from a free stack); which
// sequence gets pages, and when, is the scheduler's policy. Pages are
// reference-counted so sequences with an identical prefix can share pages
// copy-on-write: a page returns to the free list when its last holder drops it.
#ifndef ACCLLM_SCHEDULER_PAGE_POOL_H_
#define ACCLLM_SCHEDULER_PAGE_POOL_H_

#include <cstdint>  // int32_t
#include <vector>   // std::vector

#include "absl/status/statusor.h"  // absl::StatusOr

namespace accllm::scheduler {

class PagePool {
 public:
  // `num_pages` pages of `page_size` token positions each (both ≥ 1).
  explicit PagePool(int32_t num_pages, int32_t page_size = 16);

  // A free page with reference count 1; RESOURCE_EXHAUSTED when none is left.
  // Lowest ids come out first on a fresh pool (deterministic tests).
  absl::StatusOr<int32_t> Allocate();
  // One more holder of an allocated page (prefix sharing).
  void AddRef(int32_t page);
  // Drops one reference; true when the page went back to the free list.
  bool Release(int32_t page);

  int32_t RefCount(int32_t page) const;
  int32_t num_pages() const { return static_cast<int32_t>(refcount_.size()); }
  int32_t page_size() const { return page_size_; }
  int32_t num_free() const { return static_cast<int32_t>(free_.size()); }
  int32_t num_used() const { return num_pages() - num_free(); }

 private:
  int32_t page_size_;
  std::vector<int32_t> free_;      // a stack of free page ids
  std::vector<int32_t> refcount_;  // [num_pages]; 0 = free
};

}  // namespace accllm::scheduler

#endif  // ACCLLM_SCHEDULER_PAGE_POOL_H_
