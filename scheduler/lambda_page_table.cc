#include "scheduler/lambda_page_table.h"

#include <algorithm>  // std::min, std::max
#include <limits>     // std::numeric_limits

#include "absl/strings/str_cat.h"  // absl::StrCat
#include "scheduler/invariant.h"   // ACCLLM_SCHED_INVARIANT

namespace accllm::scheduler {

LambdaPageTable::LambdaPageTable(AttentionSpec spec, int32_t page_size)
    : spec_(spec),
      page_size_(page_size),
      num_sink_pages_(spec.dense ? 0 : (spec.sinks + page_size - 1) / page_size),
      first_window_logical_(num_sink_pages_) {
  ACCLLM_SCHED_INVARIANT(page_size >= 1);
}

int64_t LambdaPageTable::MaxPagesHeld(const AttentionSpec& spec, int32_t page_size) {
  if (spec.dense) return std::numeric_limits<int64_t>::max();
  return (spec.sinks + page_size - 1) / page_size + (spec.window + page_size - 1) / page_size + 1;
}

int64_t LambdaPageTable::PagesToRun(const AttentionSpec& spec, int32_t page_size,
                                    int64_t positions) {
  const int64_t all = (positions + page_size - 1) / page_size;
  return std::min(all, MaxPagesHeld(spec, page_size));
}

int32_t LambdaPageTable::Find(int64_t logical) const {
  if (logical < static_cast<int64_t>(sink_pages_.size())) return sink_pages_[logical];
  const int64_t i = logical - first_window_logical_;
  if (logical >= num_sink_pages_ && i >= 0 && i < static_cast<int64_t>(window_pages_.size())) {
    return window_pages_[i];
  }
  return -1;
}

int32_t& LambdaPageTable::Slot(int64_t logical) {
  if (logical < num_sink_pages_) return sink_pages_[logical];
  return window_pages_[logical - first_window_logical_];
}

bool LambdaPageTable::NeedsCopyOnWrite(const PagePool& pool) const {
  if (length_ % page_size_ == 0) return false;  // the next token opens a new page
  const int32_t page = Find(PageOf(length_));
  ACCLLM_SCHED_INVARIANT(page >= 0);
  return pool.RefCount(page) > 1;
}

int32_t LambdaPageTable::PagesNeededToAppend(int64_t n, const PagePool& pool) const {
  if (n <= 0) return 0;
  const int64_t fresh = PageOf(length_ + n - 1) - PagesFor(length_) + 1;
  return static_cast<int32_t>(std::max<int64_t>(fresh, 0) + (NeedsCopyOnWrite(pool) ? 1 : 0));
}

int64_t LambdaPageTable::MaxAppendable(int64_t n, int32_t free_pages, const PagePool& pool) const {
  if (n <= 0) return 0;
  int64_t budget = free_pages - (NeedsCopyOnWrite(pool) ? 1 : 0);
  if (budget < 0) return 0;
  const int64_t room_in_open_page = (page_size_ - length_ % page_size_) % page_size_;
  return std::min(n, room_in_open_page + budget * page_size_);
}

void LambdaPageTable::PushPage(int64_t logical, int32_t physical) {
  if (logical < num_sink_pages_) {
    ACCLLM_SCHED_INVARIANT(logical == static_cast<int64_t>(sink_pages_.size()));
    sink_pages_.push_back(physical);
    return;
  }
  if (window_pages_.empty()) first_window_logical_ = logical;
  ACCLLM_SCHED_INVARIANT(logical ==
                         first_window_logical_ + static_cast<int64_t>(window_pages_.size()));
  window_pages_.push_back(physical);
}

absl::StatusOr<AppendResult> LambdaPageTable::Append(int64_t n, PagePool& pool) {
  if (n <= 0) return absl::InvalidArgumentError(absl::StrCat("cannot append ", n, " tokens"));
  const int32_t needed = PagesNeededToAppend(n, pool);
  if (needed > pool.num_free()) {
    return absl::ResourceExhaustedError(absl::StrCat("appending ", n, " tokens needs ", needed,
                                                     " KV pages; ", pool.num_free(), " free"));
  }
  AppendResult result;
  result.first_position = length_;
  if (NeedsCopyOnWrite(pool)) {
    int32_t& slot = Slot(PageOf(length_));
    const int32_t fresh = *pool.Allocate();
    result.copies.push_back({slot, fresh});
    pool.Release(slot);  // still held by the other sharer(s)
    slot = fresh;
  }
  for (int64_t l = PagesFor(length_); l <= PageOf(length_ + n - 1); ++l) {
    PushPage(l, *pool.Allocate());
  }
  length_ += n;
  max_live_ = std::max(max_live_, num_live_pages());

  // The chunk's first query (at first_position) reads the oldest positions.
  const int64_t oldest = spec_.WindowStart(result.first_position);
  for (size_t i = 0; i < sink_pages_.size(); ++i) {
    result.pages.push_back({static_cast<int64_t>(i), sink_pages_[i]});
  }
  for (size_t i = 0; i < window_pages_.size(); ++i) {
    const int64_t l = first_window_logical_ + static_cast<int64_t>(i);
    if ((l + 1) * page_size_ > oldest) result.pages.push_back({l, window_pages_[i]});
  }
  return result;
}

std::vector<int64_t> LambdaPageTable::ReleaseOutOfWindow(PagePool& pool) {
  std::vector<int64_t> released;
  if (spec_.dense) return released;
  // The next query sits at position `length_`: it and every later one read
  // nothing in [S, WindowStart(length_)).
  const int64_t oldest = spec_.WindowStart(length_);
  while (!window_pages_.empty() && (first_window_logical_ + 1) * page_size_ <= oldest) {
    pool.Release(window_pages_.front());
    window_pages_.pop_front();
    released.push_back(first_window_logical_++);
  }
  return released;
}

void LambdaPageTable::ReleaseAll(PagePool& pool) {
  for (int32_t page : sink_pages_) pool.Release(page);
  for (int32_t page : window_pages_) pool.Release(page);
  sink_pages_.clear();
  window_pages_.clear();
  first_window_logical_ = num_sink_pages_;
  length_ = 0;
}

absl::Status LambdaPageTable::AdoptPrefix(const LambdaPageTable& source, int64_t num_tokens,
                                          PagePool& pool) {
  if (length_ != 0 || num_live_pages() != 0) {
    return absl::FailedPreconditionError("prefix adoption needs an empty page table");
  }
  if (!(source.spec_ == spec_) || source.page_size_ != page_size_) {
    return absl::FailedPreconditionError(
        "prefix adoption needs the same attention settings and page size (K/V differ otherwise)");
  }
  if (num_tokens < 1 || num_tokens > source.length_) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot adopt ", num_tokens, " tokens of a sequence of ", source.length_));
  }
  // Pages a sequence of length num_tokens holds after release: its sinks and
  // the pages from the one holding WindowStart(num_tokens) on.
  std::vector<PageRef> wanted;
  const int64_t end = PagesFor(num_tokens);
  for (int64_t l = 0; l < std::min(num_sink_pages_, end); ++l) wanted.push_back({l, 0});
  for (int64_t l = std::max(num_sink_pages_, PageOf(spec_.WindowStart(num_tokens))); l < end; ++l) {
    wanted.push_back({l, 0});
  }
  for (PageRef& ref : wanted) {
    ref.physical = source.Find(ref.logical);
    if (ref.physical < 0) {
      return absl::FailedPreconditionError(absl::StrCat("cannot share a prefix of ", num_tokens,
                                                        " tokens: the source released page ",
                                                        ref.logical));
    }
  }
  for (const PageRef& ref : wanted) {
    pool.AddRef(ref.physical);
    PushPage(ref.logical, ref.physical);
  }
  length_ = num_tokens;
  max_live_ = std::max(max_live_, num_live_pages());
  return absl::OkStatus();
}

std::vector<PageRef> LambdaPageTable::LivePages() const {
  std::vector<PageRef> pages;
  pages.reserve(num_live_pages());
  for (size_t i = 0; i < sink_pages_.size(); ++i) {
    pages.push_back({static_cast<int64_t>(i), sink_pages_[i]});
  }
  for (size_t i = 0; i < window_pages_.size(); ++i) {
    pages.push_back({first_window_logical_ + static_cast<int64_t>(i), window_pages_[i]});
  }
  return pages;
}

std::pair<int64_t, int64_t> LambdaPageTable::PagePositions(int64_t logical) const {
  const int64_t begin = logical * page_size_;
  return {begin, std::max(begin, std::min<int64_t>(begin + page_size_, length_))};
}

}  // namespace accllm::scheduler
