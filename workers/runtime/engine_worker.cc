#include "workers/runtime/engine_worker.h"

#include <vector>

#include "absl/strings/str_cat.h"    // absl::StrCat
#include "model/splitmix.h"          // SplitMix64
#include "workers/engine/sampler.h"  // Sampler

namespace accllm {

EngineWorker::EngineWorker(std::shared_ptr<const LlamaModel> model, int32_t num_pages,
                           int32_t page_size)
    : model_(std::move(model)), pool_(MakeKvPagePool(*model_, num_pages, page_size)) {}

uint64_t TokenSeed(uint64_t seed, int64_t position) {
  uint64_t state = seed ^ (static_cast<uint64_t>(position) * 0xd1342543de82ef95ull);
  return SplitMix64(state);
}

scheduler::ModelLimits LimitsFor(const ModelConfig& config) {
  scheduler::ModelLimits limits;
  limits.vocab_size = config.vocab_size;
  limits.max_dense_context = config.max_seq_len;
  limits.default_attention = AttentionWindow::Lambda(4, std::min(1024, config.max_seq_len));
  return limits;
}

absl::StatusOr<int32_t> EngineWorker::RunChunk(const scheduler::SequenceChunk& chunk) {
  if (chunk.page_size != pool_->page_size()) {
    return absl::InvalidArgumentError(absl::StrCat("chunk page size ", chunk.page_size,
                                                   " differs from the worker's ",
                                                   pool_->page_size()));
  }
  for (const scheduler::PageCopy& copy : chunk.page_copies) {
    if (copy.from < 0 || copy.to < 0 || copy.from >= pool_->num_pages() ||
        copy.to >= pool_->num_pages()) {
      return absl::OutOfRangeError(absl::StrCat("page copy ", copy.from, " → ", copy.to,
                                                " is outside the pool"));
    }
    pool_->CopyPage(copy.from, copy.to);
  }
  std::vector<PageRef> pages;
  pages.reserve(chunk.pages.size());
  for (const scheduler::PageRef& p : chunk.pages) pages.push_back({p.logical, p.physical});
  std::unique_ptr<SequenceKv> kv = pool_->Sequence(std::move(pages), chunk.attention);
  std::vector<float> logits(chunk.sample ? model_->config().vocab_size : 0);
  for (size_t i = 0; i < chunk.tokens.size(); ++i) {
    const bool last = i + 1 == chunk.tokens.size();
    absl::Status s =
        model_->Forward(chunk.tokens[i], chunk.first_position + static_cast<int64_t>(i), *kv,
                        last ? std::span<float>(logits) : std::span<float>());
    if (!s.ok()) return s;
  }
  if (!chunk.sample) return -1;
  SamplingParams params;
  params.temperature = chunk.sampling.temperature;
  params.top_k = chunk.sampling.top_k;
  params.top_p = chunk.sampling.top_p;
  params.seed = TokenSeed(chunk.sampling.seed, chunk.sample_position);
  Sampler sampler(params);
  return sampler.Sample(logits);
}

absl::StatusOr<scheduler::StepOutput> EngineWorker::Step(const scheduler::StepBatch& batch) {
  scheduler::StepOutput out;
  out.step_id = batch.step_id;
  for (const scheduler::SequenceChunk& chunk : batch.chunks) {
    absl::StatusOr<int32_t> token = RunChunk(chunk);
    if (!token.ok()) {
      return absl::Status(token.status().code(),
                          absl::StrCat("request ", chunk.request_id, ": ", token.status().message()));
    }
    if (chunk.sample) out.tokens.push_back({chunk.request_id, *token});
  }
  return out;
}

}  // namespace accllm
