#include "client/eval/evaluation.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>  // nlohmann::json
#include <optional>
#include <span>

#include "absl/strings/numbers.h"       // absl::SimpleAtoi
#include "absl/strings/str_cat.h"       // absl::StrCat
#include "absl/strings/str_split.h"     // absl::StrSplit
#include "workers/backend/sampler.h"    // Sampler
#include "workers/engine/kv_factory.h"  // MakeSequenceKv, MakeKvPagePool

namespace accllm {

namespace {

// Continues `stream` by sampling until it holds `length` tokens or, when
// `stop_at_eos`, the model emits a stop token. Dense cache, temperature 1.
absl::Status SampleInto(const LlamaModel& model, Sampler& sampler, int64_t length, bool stop_at_eos,
                        std::vector<int32_t>& stream) {
  const ModelConfig& c = model.config();
  std::unique_ptr<SequenceKv> cache = MakeSequenceKv(model, static_cast<int32_t>(length));
  std::vector<float> logits(c.vocab_size);
  const size_t start = stream.size();
  stream.push_back(c.bos_token_id);
  for (int64_t pos = 0; static_cast<int64_t>(stream.size() - start) < length; ++pos) {
    if (absl::Status s = model.Forward(stream.back(), pos, *cache, logits); !s.ok()) return s;
    const int32_t next = sampler.Sample(logits);
    if (stop_at_eos &&
        std::find(c.eos_token_ids.begin(), c.eos_token_ids.end(), next) != c.eos_token_ids.end()) {
      break;
    }
    stream.push_back(next);
  }
  return absl::OkStatus();
}

double LogSumExp(std::span<const float> x) {
  const float max = *std::max_element(x.begin(), x.end());
  double sum = 0;
  for (float v : x) sum += std::exp(double(v) - max);
  return max + std::log(sum);
}

}  // namespace

absl::StatusOr<std::vector<std::vector<int32_t>>> SampleStreams(const LlamaModel& model,
                                                                int32_t count, int32_t length,
                                                                uint64_t seed) {
  if (count <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("--streams must be positive, got ", count));
  }
  if (length < 2 || length > model.config().max_seq_len) {
    return absl::InvalidArgumentError(
        absl::StrCat("--length must be in [2, ", model.config().max_seq_len,
                     "] (the reference's trained context), got ", length));
  }
  // All streams decode together, one ForwardBatch per step with a token of each: the weights
  // stream once per step, not once per stream. ForwardBatch gives each token Forward's bits,
  // so the samples are those of decoding the streams one by one.
  const int32_t vocab = model.config().vocab_size;
  std::vector<std::vector<int32_t>> streams(count);
  std::vector<Sampler> samplers;
  std::vector<std::unique_ptr<SequenceKv>> caches;
  for (int32_t i = 0; i < count; ++i) {
    samplers.emplace_back(
        SamplingParams{.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .seed = seed * 1000003 + i});
    caches.push_back(MakeSequenceKv(model, length));
    streams[i].push_back(model.config().bos_token_id);
  }
  std::vector<float> logits(static_cast<size_t>(count) * vocab);
  std::vector<LlamaModel::BatchToken> step(count);
  for (int64_t pos = 0; pos + 1 < length; ++pos) {
    for (int32_t i = 0; i < count; ++i) {
      step[i] = {.token = streams[i].back(),
                 .pos = pos,
                 .kv = caches[i].get(),
                 .logits = std::span<float>(logits.data() + static_cast<size_t>(i) * vocab,
                                            static_cast<size_t>(vocab))};
    }
    if (absl::Status s = model.ForwardBatch(step); !s.ok()) return s;
    for (int32_t i = 0; i < count; ++i) streams[i].push_back(samplers[i].Sample(step[i].logits));
  }
  return streams;
}

absl::StatusOr<std::vector<int32_t>> SampleConcatenatedStream(const LlamaModel& model,
                                                              int64_t length, uint64_t seed) {
  if (length < 2) return absl::InvalidArgumentError("--stream-length must be at least 2");
  std::vector<int32_t> stream;
  Sampler sampler({.temperature = 1.0f, .top_k = 0, .top_p = 1.0f, .seed = seed});
  while (static_cast<int64_t>(stream.size()) < length) {
    const int64_t room =
        std::min<int64_t>(model.config().max_seq_len, length - static_cast<int64_t>(stream.size()));
    if (absl::Status s = SampleInto(model, sampler, room, true, stream); !s.ok()) return s;
  }
  return stream;
}

absl::StatusOr<std::vector<int32_t>> ReadStreamFile(const std::string& path, int32_t vocab_size) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open stream file ", path));
  std::vector<int32_t> ids;
  for (std::string item; in >> item;) {
    int32_t id;
    if (!absl::SimpleAtoi(item, &id) || id < 0 || id >= vocab_size) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": item ", ids.size() + 1, " \"", item,
                                                     "\" is not a token id in [0, ", vocab_size,
                                                     ")"));
    }
    ids.push_back(id);
  }
  if (ids.size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": a stream needs at least 2 tokens"));
  }
  return ids;
}

absl::StatusOr<AttentionWindow> ParseAttention(const std::string& text) {
  if (text == "dense") return AttentionWindow::Dense();
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat(
        "--attention must be dense, window:W or lambda:S,W with W >= 1, got \"", text, "\""));
  };
  int32_t s = 0, w = 0;
  if (text.rfind("window:", 0) == 0) {
    if (!absl::SimpleAtoi(text.substr(7), &w) || w < 1) return bad();
    return AttentionWindow::Lambda(0, w);
  }
  if (text.rfind("lambda:", 0) == 0) {
    std::vector<std::string> parts = absl::StrSplit(text.substr(7), ',');
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &s) || !absl::SimpleAtoi(parts[1], &w) ||
        s < 0 || w < 1) {
      return bad();
    }
    return AttentionWindow::Lambda(s, w);
  }
  return bad();
}

namespace {

// The statistics of a run, one predicted token at a time, whichever way the model's logits
// were computed.
class EvalAccumulator {
 public:
  explicit EvalAccumulator(const EvalOptions& options) : options_(options) {}

  void Add(std::span<const float> logits, std::span<const float> ref_logits, int32_t next,
           int64_t pos) {
    const double lse = LogSumExp(logits), ref_lse = LogSumExp(ref_logits);
    double token_kl = 0;
    for (size_t i = 0; i < logits.size(); ++i) {
      const double lp_ref = ref_logits[i] - ref_lse;
      token_kl += std::exp(lp_ref) * (lp_ref - (logits[i] - lse));
    }
    kl_ += token_kl;
    nll_ += lse - logits[next];
    nll_ref_ += ref_lse - ref_logits[next];
    agree_ += Argmax(logits) == Argmax(ref_logits);
    const size_t seg = static_cast<size_t>((pos + 1) / options_.segment);
    if (seg >= seg_sum_.size()) {
      seg_sum_.resize(seg + 1);
      seg_count_.resize(seg + 1);
    }
    seg_sum_[seg] += lse - logits[next];
    ++seg_count_[seg];
    ++tokens_;
  }

  absl::StatusOr<EvalReport> Finish(double bits_per_weight, int64_t max_pages) const {
    if (tokens_ == 0) return absl::InvalidArgumentError("no tokens to evaluate");
    EvalReport report;
    report.tokens = tokens_;
    report.bits_per_weight = bits_per_weight;
    report.max_pages_per_sequence = max_pages;
    const double n = static_cast<double>(tokens_);
    report.kl_mean = kl_ / n;
    report.top1_agreement = agree_ / n;
    report.nll_model = nll_ / n;
    report.nll_reference = nll_ref_ / n;
    for (size_t i = 0; i < seg_sum_.size(); ++i) {
      report.nll_by_segment.push_back(seg_count_[i] ? seg_sum_[i] / seg_count_[i] : 0.0);
    }
    return report;
  }

 private:
  const EvalOptions& options_;
  double kl_ = 0, nll_ = 0, nll_ref_ = 0;
  int64_t agree_ = 0, tokens_ = 0;
  std::vector<double> seg_sum_;
  std::vector<int64_t> seg_count_;
};

absl::Status CheckVocab(const ModelConfig& model, const ModelConfig& reference) {
  if (model.vocab_size != reference.vocab_size) {
    return absl::InvalidArgumentError(absl::StrCat("the model's vocabulary (", model.vocab_size,
                                                   ") differs from the reference's (",
                                                   reference.vocab_size, ")"));
  }
  return absl::OkStatus();
}

// How the model under evaluation runs one stream: Start(n) before a stream of n tokens, then
// Chunk for each [begin, end) in order, writing logits[pos - begin] of each position. `pages`
// are the pager's pages for the chunk, or null without a pager (dense attention).
class StreamRunner {
 public:
  virtual ~StreamRunner() = default;
  virtual absl::Status Start(int64_t n) = 0;
  virtual absl::Status Chunk(const std::vector<int32_t>& stream, int64_t begin, int64_t end,
                             const std::vector<PageRef>* pages,
                             std::vector<std::vector<float>>& logits) = 0;
};

// Positions [begin, end) of `stream` as one batched prefill on `kv`; logits[i] (resized to
// the vocabulary) gets position begin + i's, the bits Forward would give.
absl::Status PrefillChunk(const LlamaModel& model, const std::vector<int32_t>& stream,
                          int64_t begin, int64_t end, SequenceKv& kv,
                          std::vector<std::vector<float>>& logits) {
  std::vector<LlamaModel::BatchToken> batch(static_cast<size_t>(end - begin));
  for (int64_t pos = begin; pos < end; ++pos) {
    std::vector<float>& out = logits[pos - begin];
    out.resize(static_cast<size_t>(model.config().vocab_size));
    batch[pos - begin] = {.token = stream[pos], .pos = pos, .kv = &kv, .logits = out};
  }
  return model.ForwardBatch(batch);
}

// Feeds every stream through `runner` and the reference in chunks, and aggregates.
absl::StatusOr<EvalReport> RunEvaluation(StreamRunner& runner, double bits_per_weight,
                                         const LlamaModel& reference,
                                         const std::vector<std::vector<int32_t>>& streams,
                                         const EvalOptions& options) {
  EvalAccumulator acc(options);
  int64_t max_pages = 0;
  for (const std::vector<int32_t>& stream : streams) {
    const int64_t n = static_cast<int64_t>(stream.size());
    std::unique_ptr<SequenceKv> ref_cache = MakeSequenceKv(reference, static_cast<int32_t>(n));
    std::unique_ptr<SequencePager> pager;
    if (options.make_pager) pager = options.make_pager();
    if (absl::Status s = runner.Start(n); !s.ok()) return s;
    for (int64_t begin = 0; begin < n - 1; begin += options.chunk) {
      const int64_t end = std::min<int64_t>(begin + options.chunk, n - 1);
      std::optional<std::vector<PageRef>> pages;
      if (pager) {
        absl::StatusOr<std::vector<PageRef>> got = pager->PagesForChunk(begin, end);
        if (!got.ok()) return got.status();
        pages = *std::move(got);
      }
      std::vector<std::vector<float>> logits(static_cast<size_t>(end - begin));
      if (absl::Status s = runner.Chunk(stream, begin, end, pages ? &*pages : nullptr, logits);
          !s.ok()) {
        return s;
      }
      std::vector<std::vector<float>> ref_logits(static_cast<size_t>(end - begin));
      if (absl::Status s = PrefillChunk(reference, stream, begin, end, *ref_cache, ref_logits);
          !s.ok()) {
        return s;
      }
      for (int64_t pos = begin; pos < end; ++pos) {
        acc.Add(logits[pos - begin], ref_logits[pos - begin], stream[pos + 1], pos);
      }
    }
    if (pager) max_pages = std::max(max_pages, pager->max_pages_held());
  }
  return acc.Finish(bits_per_weight, max_pages);
}

// The engine in this process, a chunk at a time over a dense cache or the pager's pages.
class EngineRunner : public StreamRunner {
 public:
  EngineRunner(const LlamaModel& model, const EvalOptions& options)
      : model_(model), options_(options) {}

  absl::Status Start(int64_t n) override {
    if (options_.make_pager) {
      store_ = MakeKvPagePool(model_, options_.num_pages, options_.page_size);
    } else {
      dense_ = MakeSequenceKv(model_, static_cast<int32_t>(n));
    }
    return absl::OkStatus();
  }

  absl::Status Chunk(const std::vector<int32_t>& stream, int64_t begin, int64_t end,
                     const std::vector<PageRef>* pages,
                     std::vector<std::vector<float>>& logits) override {
    std::unique_ptr<SequenceKv> paged;
    if (pages != nullptr) paged = store_->Sequence(*pages, options_.attention);
    SequenceKv& kv = paged ? *paged : *dense_;
    return PrefillChunk(model_, stream, begin, end, kv, logits);
  }

 private:
  const LlamaModel& model_;
  const EvalOptions& options_;
  std::unique_ptr<KvPagePool> store_;
  std::unique_ptr<SequenceKv> dense_;
};

// A backend: each chunk's positions as one step in which every position samples its logits,
// over the pager's pages or (dense) pages 0, 1, ... of the model's pool.
class BackendRunner : public StreamRunner {
 public:
  BackendRunner(BackendModel& model, const EvalOptions& options)
      : model_(model), options_(options) {}

  absl::Status Start(int64_t) override { return absl::OkStatus(); }

  absl::Status Chunk(const std::vector<int32_t>& stream, int64_t begin, int64_t end,
                     const std::vector<PageRef>* pages,
                     std::vector<std::vector<float>>& logits) override {
    std::vector<scheduler::PageRef> table;
    if (pages != nullptr) {
      for (const PageRef& p : *pages) table.push_back({p.logical, p.physical});
    } else {
      const int64_t last = (end - 1) / options_.page_size;
      if (last >= model_.num_pages()) {
        return absl::ResourceExhaustedError(
            absl::StrCat("a dense stream of ", stream.size(), " tokens needs ", last + 1,
                         " pages, the pool has ", model_.num_pages()));
      }
      for (int64_t l = 0; l <= last; ++l) table.push_back({l, static_cast<int32_t>(l)});
    }
    std::vector<scheduler::SequenceChunk> chunks(static_cast<size_t>(end - begin));
    for (int64_t pos = begin; pos < end; ++pos) {
      scheduler::SequenceChunk& chunk = chunks[pos - begin];
      chunk.tokens = {stream[pos]};
      chunk.first_position = pos;
      chunk.pages = table;
      chunk.attention = options_.attention;
      chunk.page_size = options_.page_size;
      chunk.sample = true;
    }
    return model_.Forward(chunks, logits);
  }

 private:
  BackendModel& model_;
  const EvalOptions& options_;
};

}  // namespace

absl::StatusOr<EvalReport> Evaluate(const LlamaModel& model, const LlamaModel& reference,
                                    const std::vector<std::vector<int32_t>>& streams,
                                    const EvalOptions& options) {
  if (absl::Status s = CheckVocab(model.config(), reference.config()); !s.ok()) return s;
  EngineRunner runner(model, options);
  return RunEvaluation(runner, model.LinearBitsPerWeight(), reference, streams, options);
}

absl::StatusOr<EvalReport> EvaluateOnBackend(BackendModel& model, const LlamaModel& reference,
                                             const std::vector<std::vector<int32_t>>& streams,
                                             const EvalOptions& options) {
  if (absl::Status s = CheckVocab(model.config(), reference.config()); !s.ok()) return s;
  BackendRunner runner(model, options);
  return RunEvaluation(runner, model.LinearBitsPerWeight(), reference, streams, options);
}

std::string EvalReportToJson(const EvalReport& r) {
  nlohmann::json j = {{"tokens", r.tokens},
                      {"kl_mean", r.kl_mean},
                      {"top1_agreement", r.top1_agreement},
                      {"nll_model", r.nll_model},
                      {"nll_reference", r.nll_reference},
                      {"bits_per_weight", r.bits_per_weight},
                      {"nll_by_segment", r.nll_by_segment},
                      {"max_pages_per_sequence", r.max_pages_per_sequence}};
  return j.dump();
}

}  // namespace accllm
