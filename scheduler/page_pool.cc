#include "scheduler/page_pool.h"

#include "absl/status/status.h"    // absl::ResourceExhaustedError
#include "absl/strings/str_cat.h"  // absl::StrCat
#include "scheduler/invariant.h"   // ACCLLM_SCHED_INVARIANT

namespace accllm::scheduler {

PagePool::PagePool(int32_t num_pages, int32_t page_size)
    : page_size_(page_size), refcount_(num_pages > 0 ? num_pages : 0, 0) {
  ACCLLM_SCHED_INVARIANT(num_pages >= 1 && page_size >= 1);
  free_.reserve(num_pages);
  // Pushed in reverse so that page 0 is allocated first.
  for (int32_t p = num_pages - 1; p >= 0; --p) free_.push_back(p);
}

absl::StatusOr<int32_t> PagePool::Allocate() {
  if (free_.empty()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "KV page pool exhausted (", num_pages(), " pages of ", page_size_, " tokens all in use)"));
  }
  const int32_t page = free_.back();
  free_.pop_back();
  refcount_[page] = 1;
  return page;
}

void PagePool::AddRef(int32_t page) {
  ACCLLM_SCHED_INVARIANT(page >= 0 && page < num_pages() && refcount_[page] > 0);
  ++refcount_[page];
}

bool PagePool::Release(int32_t page) {
  ACCLLM_SCHED_INVARIANT(page >= 0 && page < num_pages() && refcount_[page] > 0);
  if (--refcount_[page] > 0) return false;
  free_.push_back(page);
  return true;
}

int32_t PagePool::RefCount(int32_t page) const {
  ACCLLM_SCHED_INVARIANT(page >= 0 && page < num_pages());
  return refcount_[page];
}

}  // namespace accllm::scheduler
