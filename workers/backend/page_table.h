// A sequence's page table as a backend reads it: which physical page of the pool holds a
// position, and whether a query finds every page it writes or reads under its attention rule.
// Shared by every backend (the CPU engine's caches, the FPGA card's command) and by the step
// checks that run before any backend sees a chunk.
#ifndef ACCLLM_WORKERS_BACKEND_PAGE_TABLE_H_
#define ACCLLM_WORKERS_BACKEND_PAGE_TABLE_H_

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/status.h"       // absl::Status
#include "model/attention_window.h"   // AttentionWindow

namespace accllm {

// One live page of a sequence: page `logical` covers positions
// [logical·P, (logical+1)·P) and lives in physical page `physical` of the pool.
struct PageRef {
  int64_t logical = 0;
  int32_t physical = 0;
};

// A sequence's live pages, sorted by logical index: which physical page holds a
// position, and whether a query at a position finds every page it writes or reads.
class PageTable {
 public:
  PageTable(std::vector<PageRef> pages, int32_t page_size)
      : pages_(std::move(pages)), page_size_(page_size) {}
  int32_t page_size() const { return page_size_; }
  int32_t PhysicalPage(int64_t pos) const;  // -1 when not paged in
  // The query at `pos` writes pos and reads its sinks and window (per `window`);
  // FailedPrecondition names the first position without a page, OutOfRange a
  // physical page outside a pool of `num_pages`.
  absl::Status CheckCovers(int64_t pos, const AttentionWindow& window, int32_t num_pages) const;

 private:
  std::vector<PageRef> pages_;
  int32_t page_size_;
};

}  // namespace accllm

#endif  // ACCLLM_WORKERS_BACKEND_PAGE_TABLE_H_
