#include "workers/backend/page_table.h"

#include <algorithm>

#include "absl/strings/str_cat.h"  // absl::StrCat

namespace accllm {

int32_t PageTable::PhysicalPage(int64_t pos) const {
  const int64_t logical = pos / page_size_;
  auto it = std::lower_bound(pages_.begin(), pages_.end(), logical,
                             [](const PageRef& p, int64_t l) { return p.logical < l; });
  return it != pages_.end() && it->logical == logical ? it->physical : -1;
}

absl::Status PageTable::CheckCovers(int64_t pos, const AttentionWindow& window,
                                    int32_t num_pages) const {
  if (pos < 0) return absl::OutOfRangeError(absl::StrCat("position ", pos, " is negative"));
  const int32_t page = PhysicalPage(pos);
  if (page < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "position ", pos, " (logical page ", pos / page_size_,
        ") has no page in the sequence's page table"));
  }
  if (page >= num_pages) {
    return absl::OutOfRangeError(
        absl::StrCat("physical page ", page, " is outside the pool of ", num_pages));
  }
  for (int64_t p = 0; p < window.SinkCount(pos); ++p) {
    if (PhysicalPage(p) < 0) {
      return absl::FailedPreconditionError(absl::StrCat("sink position ", p, " has no page"));
    }
  }
  for (int64_t p = window.WindowStart(pos); p <= pos; p += page_size_) {
    if (PhysicalPage(p) < 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("window position ", p, " of the query at ", pos, " has no page"));
    }
  }
  return absl::OkStatus();
}

}  // namespace accllm
