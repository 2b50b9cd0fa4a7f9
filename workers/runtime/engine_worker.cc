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

absl::Status EngineWorker::PrepareChunk(const scheduler::SequenceChunk& chunk) {
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
  return absl::OkStatus();
}

absl::StatusOr<scheduler::StepOutput> EngineWorker::Step(const scheduler::StepBatch& batch) {
  auto tagged = [](const scheduler::SequenceChunk& chunk, const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat("request ", chunk.request_id, ": ", s.message()));
  };
  // Every chunk's tokens go through the decoder as one batch (the weights stream once per
  // step). Page copies first: a page being copied is shared, and no chunk writes a shared page.
  const int32_t vocab = model_->config().vocab_size;
  std::vector<std::unique_ptr<SequenceKv>> kvs;
  std::vector<std::vector<float>> logits(batch.chunks.size());
  std::vector<LlamaModel::BatchToken> tokens;
  tokens.reserve(static_cast<size_t>(batch.num_tokens()));
  for (size_t c = 0; c < batch.chunks.size(); ++c) {
    const scheduler::SequenceChunk& chunk = batch.chunks[c];
    if (absl::Status s = PrepareChunk(chunk); !s.ok()) return tagged(chunk, s);
    std::vector<PageRef> pages;
    pages.reserve(chunk.pages.size());
    for (const scheduler::PageRef& p : chunk.pages) pages.push_back({p.logical, p.physical});
    kvs.push_back(pool_->Sequence(std::move(pages), chunk.attention));
    if (chunk.sample) logits[c].resize(vocab);
    for (size_t i = 0; i < chunk.tokens.size(); ++i) {
      const bool last = i + 1 == chunk.tokens.size();
      const LlamaModel::BatchToken t{
          .token = chunk.tokens[i],
          .pos = chunk.first_position + static_cast<int64_t>(i),
          .kv = kvs.back().get(),
          .logits = last ? std::span<float>(logits[c]) : std::span<float>()};
      if (absl::Status s = model_->CheckToken(t); !s.ok()) return tagged(chunk, s);
      tokens.push_back(t);
    }
  }
  if (absl::Status s = model_->ForwardBatch(tokens); !s.ok()) return s;

  scheduler::StepOutput out;
  out.step_id = batch.step_id;
  for (size_t c = 0; c < batch.chunks.size(); ++c) {
    const scheduler::SequenceChunk& chunk = batch.chunks[c];
    if (!chunk.sample) continue;
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
