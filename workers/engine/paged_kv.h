// KV pages: a pool of fixed-size pages (P positions × all layers × K and V) that
// the scheduler hands out, and one sequence's view of its live pages. The
// engine reads only the pages listed in the sequence's page table — the sinks
// and the window — so memory and work per token stay bounded however long the
// sequence runs.
#ifndef ACCLLM_WORKERS_ENGINE_PAGED_KV_H_
#define ACCLLM_WORKERS_ENGINE_PAGED_KV_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"             // absl::StatusOr
#include "model/config.h"                     // ModelConfig
#include "model/attention_window.h"          // AttentionWindow
#include "model/rope.h"              // Rope
#include "workers/backend/page_table.h"      // PageRef, PageTable
#include "workers/engine/sequence_kv.h"       // SequenceKv

namespace accllm {

// What the engine needs from a page allocator for one growing sequence: the
// page table that covers a chunk [begin, end) — every position its queries write
// or read. The scheduler's Λ page table implements it; pages no longer needed
// are released by the allocator before it answers.
class SequencePager {
 public:
  virtual ~SequencePager() = default;
  virtual absl::StatusOr<std::vector<PageRef>> PagesForChunk(int64_t begin, int64_t end) = 0;
  virtual int64_t max_pages_held() const = 0;
};

// Float32 page storage (the reference path; quantized KV4 pages come later).
class PagedKvStore {
 public:
  PagedKvStore(const ModelConfig& config, int32_t num_pages, int32_t page_size);

  int32_t num_pages() const { return num_pages_; }
  int32_t page_size() const { return page_size_; }
  // [kv_dim] of one slot of one page.
  float* Key(int32_t page, int32_t layer, int32_t slot);
  float* Value(int32_t page, int32_t layer, int32_t slot);
  const float* Key(int32_t page, int32_t layer, int32_t slot) const;
  const float* Value(int32_t page, int32_t layer, int32_t slot) const;
  // Copies a whole page (copy-on-write of shared prefix pages).
  void CopyPage(int32_t from, int32_t to);

 private:
  size_t Offset(int32_t page, int32_t layer, int32_t slot) const;

  int32_t kv_dim_, n_layers_, num_pages_, page_size_;
  std::vector<float> keys_;    // [pages, layers, page_size, kv_dim]
  std::vector<float> values_;  // [pages, layers, page_size, kv_dim]
};

// One sequence's K/V over a page table. Window keys are stored after RoPE at
// their own positions; sink keys are stored before RoPE and rotated on the fly
// to AttentionWindow::SinkRopePosition. Dense attention stores every key rotated.
class PagedSequenceKv : public SequenceKv {
 public:
  // `pages` sorted by logical index; it must cover every position this
  // sequence writes or attends to (the scheduler's Λ page table does).
  PagedSequenceKv(const ModelConfig& config, PagedKvStore& store, std::vector<PageRef> pages,
                  AttentionWindow window);

  absl::Status CheckWritable(int64_t pos) const override;
  void Store(int32_t layer, int64_t pos, std::span<const float> k,
             std::span<const float> v) override;
  void Attend(int32_t layer, int64_t pos, std::span<const float> q,
              std::span<float> out) const override;

 private:
  int32_t PhysicalPage(int64_t pos) const { return table_.PhysicalPage(pos); }

  ModelConfig config_;
  PagedKvStore& store_;
  PageTable table_;
  AttentionWindow window_;
  Rope rope_;
  mutable std::vector<float> sink_keys_;  // scratch: [S, kv_dim] rotated sinks
  mutable std::vector<const float*> key_ptrs_, value_ptrs_;  // scratch
  mutable std::vector<float> scores_;                         // scratch
};

}  // namespace accllm

#endif  // ACCLLM_WORKERS_ENGINE_PAGED_KV_H_
