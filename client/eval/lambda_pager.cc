#include "client/eval/lambda_pager.h"

#include "scheduler/lambda_page_table.h"  // LambdaPageTable
#include "scheduler/page_pool.h"          // PagePool
#include "model/attention_window_check.h"  // ValidateAttentionWindow

namespace accllm {

namespace {

class SchedulerPager : public SequencePager {
 public:
  SchedulerPager(const AttentionWindow& window, int32_t num_pages, int32_t page_size)
      : pool_(num_pages, page_size), table_(window, page_size) {}

  absl::StatusOr<std::vector<PageRef>> PagesForChunk(int64_t begin, int64_t end) override {
    // Pages the previous chunk's queries no longer need go back first, as the
    // scheduler does when a step completes.
    table_.ReleaseOutOfWindow(pool_);
    if (begin != table_.length()) {
      return absl::InternalError("chunks must be fed in order");
    }
    absl::StatusOr<scheduler::AppendResult> appended = table_.Append(end - begin, pool_);
    if (!appended.ok()) return appended.status();
    std::vector<PageRef> pages;
    for (const scheduler::PageRef& p : appended->pages) pages.push_back({p.logical, p.physical});
    return pages;
  }
  int64_t max_pages_held() const override { return table_.max_live_pages(); }

 private:
  scheduler::PagePool pool_;
  scheduler::LambdaPageTable table_;
};

}  // namespace

absl::Status ConfigureLambdaPaging(const AttentionWindow& window, int64_t longest,
                                   EvalOptions* options) {
  if (absl::Status s = ValidateAttentionWindow(window); !s.ok()) return s;
  const int32_t page_size = options->page_size;
  options->num_pages = static_cast<int32_t>(
      scheduler::LambdaPageTable::PagesToRun(window, page_size, longest) + 1);
  options->chunk = 1;
  options->attention = window;
  const int32_t num_pages = options->num_pages;
  options->make_pager = [window, num_pages, page_size] {
    return std::make_unique<SchedulerPager>(window, num_pages, page_size);
  };
  return absl::OkStatus();
}

}  // namespace accllm
