#include "workers/engine/cpu_backend.h"

#include <mutex>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"        // absl::StrCat
#include "workers/cpu/gemm_a8.h"         // GemvTargetName
#include "workers/engine/kv_factory.h"   // KvPagePool, MakeKvPagePool
#include "workers/engine/llama_model.h"  // LlamaModel
#include "workers/engine/phase_clock.h"  // EnginePhaseName

namespace accllm {
namespace {

class CpuModel : public BackendModel {
 public:
  CpuModel(std::shared_ptr<const LlamaModel> model, int32_t num_pages, int32_t page_size)
      : model_(std::move(model)), pool_(MakeKvPagePool(*model_, num_pages, page_size)) {}

  const ModelConfig& config() const override { return model_->config(); }
  KvFormat kv_format() const override { return model_->kv_format(); }
  int32_t num_pages() const override { return pool_->num_pages(); }
  int32_t page_size() const override { return pool_->page_size(); }
  absl::Status CopyPage(int32_t from, int32_t to) override {
    pool_->CopyPage(from, to);
    return absl::OkStatus();
  }
  int64_t WeightBytesPerStep() const override { return model_->WeightBytesPerStep(); }
  double LinearBitsPerWeight() const override { return model_->LinearBitsPerWeight(); }
  DeviceCounters counters() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return counters_;
  }
  std::vector<std::pair<std::string, double>> PhaseSeconds() const override {
    const std::array<double, kEnginePhaseCount> seconds = model_->PhaseSeconds();
    std::vector<std::pair<std::string, double>> out;
    for (int p = 0; p < kEnginePhaseCount; ++p) {
      out.emplace_back(std::string(EnginePhaseName(static_cast<EnginePhase>(p))), seconds[p]);
    }
    return out;
  }

  absl::Status Forward(std::span<const scheduler::SequenceChunk> chunks,
                       std::vector<std::vector<float>>& logits) override {
    // Every chunk's tokens go through the decoder as one batch (the weights stream once).
    const int32_t vocab = model_->config().vocab_size;
    std::vector<std::unique_ptr<SequenceKv>> kvs;
    std::vector<LlamaModel::BatchToken> tokens;
    for (size_t c = 0; c < chunks.size(); ++c) {
      const scheduler::SequenceChunk& chunk = chunks[c];
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
            .logits = last && chunk.sample ? std::span<float>(logits[c]) : std::span<float>()};
        tokens.push_back(t);
      }
    }
    // ForwardBatch checks every token before it runs any (BackendWorker checked them already,
    // naming the request).
    if (absl::Status s = model_->ForwardBatch(tokens); !s.ok()) return s;
    // Host memory: the weights stream once per step; the CPU counts no more than that.
    std::lock_guard<std::mutex> lock(mu_);
    counters_.bytes_read += model_->WeightBytesPerStep();
    ++counters_.steps;
    return absl::OkStatus();
  }

 private:
  std::shared_ptr<const LlamaModel> model_;
  std::unique_ptr<KvPagePool> pool_;
  mutable std::mutex mu_;  // counters_ (read by metrics and heartbeats while a step runs)
  DeviceCounters counters_;
};

}  // namespace

std::string CpuBackendName() { return absl::StrCat("cpu/", GemvTargetName()); }

std::string CpuBackend::name() const { return CpuBackendName(); }

absl::StatusOr<std::unique_ptr<BackendModel>> CpuBackend::Load(const ModelDir& dir,
                                                               const BackendLoadOptions& options) {
  LoadOptions load_options;
  load_options.threads = options.threads;
  absl::StatusOr<std::unique_ptr<LlamaModel>> model = LlamaModel::Load(dir, load_options);
  if (!model.ok()) return model.status();
  return Wrap(std::shared_ptr<const LlamaModel>(*std::move(model)), options.kv_pages,
              options.page_size);
}

std::unique_ptr<BackendModel> CpuBackend::Wrap(std::shared_ptr<const LlamaModel> model,
                                               int32_t num_pages, int32_t page_size) {
  return std::make_unique<CpuModel>(std::move(model), num_pages, page_size);
}

}  // namespace accllm
