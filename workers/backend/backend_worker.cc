#include "workers/backend/backend_worker.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"         // absl::StrCat
#include "model/splitmix.h"               // SplitMix64
#include "workers/backend/page_table.h"   // PageTable
#include "workers/backend/sampler.h"      // Sampler

namespace accllm {

BackendWorker::BackendWorker(std::shared_ptr<BackendModel> model) : model_(std::move(model)) {}

uint64_t TokenSeed(uint64_t seed, int64_t position) {
  uint64_t state = seed ^ (static_cast<uint64_t>(position) * 0xd1342543de82ef95ull);
  return SplitMix64(state);
}

absl::Status BackendWorker::PrepareChunk(const scheduler::SequenceChunk& chunk) {
  const int32_t pages = model_->num_pages();
  if (chunk.page_size != model_->page_size()) {
    return absl::InvalidArgumentError(absl::StrCat("chunk page size ", chunk.page_size,
                                                   " differs from the worker's ",
                                                   model_->page_size()));
  }
  const int32_t vocab = model_->config().vocab_size;
  for (int32_t token : chunk.tokens) {
    if (token < 0 || token >= vocab) {
      return absl::InvalidArgumentError(
          absl::StrCat("token id ", token, " is outside the vocabulary [0, ", vocab, ")"));
    }
  }
  std::vector<PageRef> refs;
  refs.reserve(chunk.pages.size());
  for (const scheduler::PageRef& p : chunk.pages) refs.push_back({p.logical, p.physical});
  const PageTable table(std::move(refs), chunk.page_size);
  for (size_t i = 0; i < chunk.tokens.size(); ++i) {
    const int64_t pos = chunk.first_position + static_cast<int64_t>(i);
    if (absl::Status s = table.CheckCovers(pos, chunk.attention, pages); !s.ok()) return s;
  }
  for (const scheduler::PageCopy& copy : chunk.page_copies) {
    if (copy.from < 0 || copy.to < 0 || copy.from >= pages || copy.to >= pages) {
      return absl::OutOfRangeError(absl::StrCat("page copy ", copy.from, " → ", copy.to,
                                                " is outside the pool"));
    }
    if (absl::Status s = model_->CopyPage(copy.from, copy.to); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<scheduler::StepOutput> BackendWorker::Step(const scheduler::StepBatch& batch) {
  // Page copies first: a page being copied is shared, and no chunk writes a shared page.
  for (const scheduler::SequenceChunk& chunk : batch.chunks) {
    if (absl::Status s = PrepareChunk(chunk); !s.ok()) {
      return absl::Status(s.code(),
                          absl::StrCat("request ", chunk.request_id, ": ", s.message()));
    }
  }
  std::vector<std::vector<float>> logits(batch.chunks.size());
  if (absl::Status s = model_->Forward(batch.chunks, logits); !s.ok()) return s;

  scheduler::StepOutput out;
  out.step_id = batch.step_id;
  for (size_t c = 0; c < batch.chunks.size(); ++c) {
    const scheduler::SequenceChunk& chunk = batch.chunks[c];
    if (!chunk.sample) continue;
    if (logits[c].size() != static_cast<size_t>(model_->config().vocab_size)) {
      return absl::InternalError(absl::StrCat("request ", chunk.request_id, ": the backend returned ",
                                              logits[c].size(), " logits"));
    }
    SamplingParams params;
    params.temperature = chunk.sampling.temperature;
    params.top_k = chunk.sampling.top_k;
    params.top_p = chunk.sampling.top_p;
    params.seed = TokenSeed(chunk.sampling.seed, chunk.sample_position);
    Sampler sampler(params);
    out.tokens.push_back({chunk.request_id, sampler.Sample(logits[c])});
  }
  return out;
}

}  // namespace accllm
