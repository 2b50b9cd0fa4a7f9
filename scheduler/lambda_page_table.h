// One sequence's KV page table under Λ-shaped attention (DESIGN.md "Λ-shaped
// attention and KV pages"). Page i covers positions [iP, (i+1)P).
//
//  - Sink pages (those overlapping [0, S)) are pinned for the sequence's life.
//  - Window pages form a ring: new pages join at the back as tokens are
//    appended, and a page leaves from the front, back to the pool, as soon as
//    all of its positions are older than the window of the next query.
//  - Dense attention keeps every page (no sinks, nothing released).
//
// So a Λ sequence never holds more than MaxPagesHeld() = ceil(S/P) + ceil(W/P)
// + 1 pages between steps and while decoding; a prefill chunk of n tokens
// holds at most ceil((n − 1)/P) more while it is being computed (its first
// queries still read the window its last tokens push out).
//
// Appending is two-phase because the worker runs a whole step after the
// scheduler planned it: Append() allocates what the chunk writes and returns
// the pages its queries read; ReleaseOutOfWindow() runs when that step is done
// (releasing earlier would let another sequence in the same batch receive a
// page this chunk still reads).
//
// Prefix sharing: AdoptPrefix() takes another table's pages for the first k
// tokens (reference count + 1). A shared page is never written in place: the
// first Append that writes into one gets a fresh page and a PageCopy telling
// the worker to copy the old contents first (copy-on-write).
#ifndef ACCLLM_SCHEDULER_LAMBDA_PAGE_TABLE_H_
#define ACCLLM_SCHEDULER_LAMBDA_PAGE_TABLE_H_

#include <cstdint>  // int32_t, int64_t
#include <deque>    // std::deque
#include <utility>  // std::pair
#include <vector>   // std::vector

#include "absl/status/status.h"        // absl::Status
#include "absl/status/statusor.h"      // absl::StatusOr
#include "scheduler/attention_spec.h"  // AttentionSpec
#include "scheduler/page_pool.h"       // PagePool

namespace accllm::scheduler {

// One live page: logical page `logical` of the sequence is physical page
// `physical` of the worker's pool.
struct PageRef {
  int64_t logical = 0;
  int32_t physical = 0;
  friend bool operator==(const PageRef&, const PageRef&) = default;
};

// Copy-on-write instruction for the worker: copy physical page `from` into
// `to` before writing any token of the step.
struct PageCopy {
  int32_t from = 0;
  int32_t to = 0;
  friend bool operator==(const PageCopy&, const PageCopy&) = default;
};

struct AppendResult {
  int64_t first_position = 0;    // position of the first appended token
  std::vector<PageRef> pages;    // every page the chunk writes or its queries read, by logical
  std::vector<PageCopy> copies;  // to perform before writing
};

class LambdaPageTable {
 public:
  LambdaPageTable(AttentionSpec spec, int32_t page_size);
  LambdaPageTable(LambdaPageTable&&) = default;
  LambdaPageTable& operator=(LambdaPageTable&&) = default;
  LambdaPageTable(const LambdaPageTable&) = delete;
  LambdaPageTable& operator=(const LambdaPageTable&) = delete;

  // ceil(S/P) + ceil(W/P) + 1 for Λ attention; INT64_MAX for dense.
  static int64_t MaxPagesHeld(const AttentionSpec& spec, int32_t page_size);
  // The most pages a sequence that writes `positions` positions (one token at
  // a time once decoding) ever needs: what admission must be able to give it.
  static int64_t PagesToRun(const AttentionSpec& spec, int32_t page_size, int64_t positions);

  // New pages (including copy-on-write copies) that Append(n) would take.
  int32_t PagesNeededToAppend(int64_t n, const PagePool& pool) const;
  // Largest m ≤ n whose Append(m) fits in `free_pages`.
  int64_t MaxAppendable(int64_t n, int32_t free_pages, const PagePool& pool) const;
  // Allocates pages for positions [length, length + n) and advances length.
  // All or nothing: RESOURCE_EXHAUSTED leaves the table unchanged.
  absl::StatusOr<AppendResult> Append(int64_t n, PagePool& pool);
  // Returns to `pool` every window page no query at position ≥ length reads;
  // the logical indices released, oldest first.
  std::vector<int64_t> ReleaseOutOfWindow(PagePool& pool);
  // Drops every page (finish, cancel, preemption); length goes back to 0.
  void ReleaseAll(PagePool& pool);

  // Shares `source`'s pages for its first `num_tokens` positions. This table
  // must be empty and have the same attention and page size. FAILED_PRECONDITION
  // when the source already released a page the new sequence would read.
  absl::Status AdoptPrefix(const LambdaPageTable& source, int64_t num_tokens, PagePool& pool);

  // Live pages sorted by logical index: what the attention kernels read.
  std::vector<PageRef> LivePages() const;
  // Positions of logical page `logical` that hold tokens: [begin, end).
  std::pair<int64_t, int64_t> PagePositions(int64_t logical) const;
  bool IsSinkPage(int64_t logical) const { return logical < num_sink_pages_; }

  int64_t length() const { return length_; }
  int32_t num_live_pages() const {
    return static_cast<int32_t>(sink_pages_.size() + window_pages_.size());
  }
  int32_t max_live_pages() const { return max_live_; }  // high-water mark
  const AttentionSpec& spec() const { return spec_; }
  int32_t page_size() const { return page_size_; }

 private:
  int64_t PageOf(int64_t pos) const { return pos / page_size_; }
  int64_t PagesFor(int64_t positions) const { return (positions + page_size_ - 1) / page_size_; }
  // Physical page of `logical`, or -1 when it is not held.
  int32_t Find(int64_t logical) const;
  int32_t& Slot(int64_t logical);
  // The page the next append writes into when it is partly filled and shared.
  bool NeedsCopyOnWrite(const PagePool& pool) const;
  void PushPage(int64_t logical, int32_t physical);

  AttentionSpec spec_;
  int32_t page_size_;
  int64_t num_sink_pages_;            // ceil(S/P); 0 for dense
  int64_t length_ = 0;                // positions written (or planned to be written)
  std::vector<int32_t> sink_pages_;   // physical ids of logical pages 0, 1, ...
  int64_t first_window_logical_;      // logical index of window_pages_.front()
  std::deque<int32_t> window_pages_;  // the ring: consecutive logical pages
  int32_t max_live_ = 0;
};

}  // namespace accllm::scheduler

#endif  // ACCLLM_SCHEDULER_LAMBDA_PAGE_TABLE_H_
