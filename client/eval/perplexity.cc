#include "client/eval/perplexity.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>  // nlohmann::json

#include "absl/strings/str_cat.h"       // absl::StrCat
#include "client/eval/evaluation.h"     // ReadStreamFile, ParseAttention, EvalOptions
#include "client/eval/lambda_pager.h"   // ConfigureLambdaPaging
#include "workers/engine/kv_factory.h"  // MakeSequenceKv, MakeKvPagePool
#include "workers/engine/paged_kv.h"    // SequencePager

namespace accllm {

namespace {

// −log softmax(logits)[next], in double: the maximum first, then the sum of exponentials.
double TokenNll(std::span<const float> logits, int32_t next) {
  const float max = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float v : logits) sum += std::exp(double(v) - max);
  return max + std::log(sum) - logits[static_cast<size_t>(next)];
}

std::string AttentionName(const AttentionWindow& w) {
  if (w.dense) return "dense";
  if (w.sinks == 0) return absl::StrCat("window:", w.window);
  return absl::StrCat("lambda:", w.sinks, ",", w.window);
}

absl::Status CheckContext(int64_t context) {
  if (context < 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--context must be at least 2 (a window's first token is context only), got ", context));
  }
  return absl::OkStatus();
}

// One window in flight: its KV (dense cache, or Λ pages from its own pool), its pager and
// the NLL of each predicted position so far.
struct WindowRun {
  const std::vector<int32_t>* ids = nullptr;
  std::unique_ptr<SequenceKv> dense;
  std::unique_ptr<KvPagePool> pool;
  std::unique_ptr<SequencePager> pager;
  std::unique_ptr<SequenceKv> paged;  // this step's view over the pager's pages
  std::vector<double> nll;            // [ids.size() - 1]
  int64_t done = 0;                   // positions run so far
  int64_t predicted() const { return static_cast<int64_t>(ids->size()) - 1; }
};

}  // namespace

absl::StatusOr<std::vector<std::vector<int32_t>>> SplitIntoWindows(std::span<const int32_t> ids,
                                                                   int64_t context) {
  if (absl::Status s = CheckContext(context); !s.ok()) return s;
  std::vector<std::vector<int32_t>> windows;
  const int64_t n = static_cast<int64_t>(ids.size());
  for (int64_t begin = 0; begin < n; begin += context) {
    const int64_t end = std::min(n, begin + context);
    if (end - begin < 2) break;  // a lone trailing token has nothing to predict
    windows.emplace_back(ids.begin() + begin, ids.begin() + end);
  }
  return windows;
}

absl::StatusOr<std::vector<int32_t>> LoadPerplexityTokens(const ModelDir& dir,
                                                          const std::string& text_file,
                                                          const std::string& ids_file) {
  if (text_file.empty() == ids_file.empty()) {
    return absl::InvalidArgumentError("give exactly one of --text-file and --ids-file");
  }
  if (!ids_file.empty()) {
    std::ifstream probe(ids_file);
    if (!probe) return absl::NotFoundError(absl::StrCat("--ids-file: cannot open ", ids_file));
    std::string item;
    if (!(probe >> item)) {
      return absl::InvalidArgumentError(absl::StrCat("--ids-file: ", ids_file, " is empty"));
    }
    absl::StatusOr<std::vector<int32_t>> ids = ReadStreamFile(ids_file, dir.config.vocab_size);
    if (!ids.ok()) {
      return absl::Status(ids.status().code(),
                          absl::StrCat("--ids-file: ", ids.status().message()));
    }
    return ids;
  }
  std::ifstream in(text_file, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("--text-file: cannot open ", text_file));
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("--text-file: ", text_file, " is empty"));
  }
  if (dir.tokenizer == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("--text-file: the model in ", dir.path.string(),
                     " has no tokenizer (tokenizer.model or tokenizer.bin); use --ids-file"));
  }
  absl::StatusOr<std::vector<int32_t>> ids = dir.tokenizer->Encode(text, /*add_bos=*/true);
  if (!ids.ok()) {
    return absl::Status(ids.status().code(),
                        absl::StrCat("--text-file: ", text_file, ": ", ids.status().message()));
  }
  if (ids->size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat("--text-file: ", text_file, " gives ",
                                                   ids->size(), " token(s), at least 2 needed"));
  }
  return ids;
}

absl::StatusOr<PerplexityReport> ScoreWindows(const LlamaModel& model,
                                              const std::vector<std::vector<int32_t>>& windows,
                                              const PerplexityOptions& options) {
  if (absl::Status s = CheckContext(options.context); !s.ok()) return s;
  if (options.batch < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--batch must be at least 1, got ", options.batch));
  }
  if (options.page_size < 1 || options.page_size > 4096) {
    return absl::InvalidArgumentError(
        absl::StrCat("--page-size must be in [1, 4096], got ", options.page_size));
  }
  if (windows.empty()) return absl::InvalidArgumentError("no window of at least 2 tokens to score");
  const int32_t vocab = model.config().vocab_size;
  for (size_t w = 0; w < windows.size(); ++w) {
    if (windows[w].size() < 2 || static_cast<int64_t>(windows[w].size()) > options.context) {
      return absl::InvalidArgumentError(absl::StrCat("window ", w, " has ", windows[w].size(),
                                                     " tokens, outside [2, --context ",
                                                     options.context, "]"));
    }
  }
  // Λ / window attention: the pages the scheduler's page table would give each window, fed one
  // position per step (ConfigureLambdaPaging sets chunk 1), as `accllm eval` runs them.
  EvalOptions paging;
  paging.page_size = options.page_size;
  if (!options.attention.dense) {
    if (absl::Status s = ConfigureLambdaPaging(options.attention, options.context, &paging);
        !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--attention: ", s.message()));
    }
  }
  const int64_t chunk = options.attention.dense ? options.context : paging.chunk;

  PerplexityReport report;
  report.context = options.context;
  report.batch = options.batch;
  report.attention = AttentionName(options.attention);
  report.windows = static_cast<int64_t>(windows.size());
  double sum = 0;
  std::vector<float> logits;
  for (size_t first = 0; first < windows.size(); first += options.batch) {
    const size_t last = std::min(windows.size(), first + static_cast<size_t>(options.batch));
    std::vector<WindowRun> runs(last - first);
    for (size_t i = 0; i < runs.size(); ++i) {
      WindowRun& r = runs[i];
      r.ids = &windows[first + i];
      r.nll.assign(static_cast<size_t>(r.predicted()), 0.0);
      if (options.attention.dense) {
        r.dense = MakeSequenceKv(model, static_cast<int32_t>(r.ids->size()));
      } else {
        r.pool = MakeKvPagePool(model, paging.num_pages, paging.page_size);
        r.pager = paging.make_pager();
      }
    }
    // Steps: each unfinished window contributes its next chunk of positions (the last token
    // of a window is only predicted, never run).
    for (;;) {
      std::vector<LlamaModel::BatchToken> step;
      std::vector<std::pair<WindowRun*, int64_t>> owner;  // (window, position) of each token
      for (WindowRun& r : runs) {
        if (r.done >= r.predicted()) continue;
        const int64_t begin = r.done, end = std::min(r.predicted(), begin + chunk);
        SequenceKv* kv = r.dense.get();
        if (r.pager) {
          absl::StatusOr<std::vector<PageRef>> pages = r.pager->PagesForChunk(begin, end);
          if (!pages.ok()) return pages.status();
          r.paged = r.pool->Sequence(*std::move(pages), options.attention);
          kv = r.paged.get();
        }
        for (int64_t pos = begin; pos < end; ++pos) {
          step.push_back(
              {.token = (*r.ids)[static_cast<size_t>(pos)], .pos = pos, .kv = kv, .logits = {}});
          owner.emplace_back(&r, pos);
        }
        r.done = end;
      }
      if (step.empty()) break;
      logits.resize(step.size() * static_cast<size_t>(vocab));
      for (size_t t = 0; t < step.size(); ++t) {
        step[t].logits = std::span<float>(logits.data() + t * vocab, static_cast<size_t>(vocab));
      }
      if (absl::Status s = model.ForwardBatch(step); !s.ok()) return s;
      for (size_t t = 0; t < step.size(); ++t) {
        auto [r, pos] = owner[t];
        r->nll[static_cast<size_t>(pos)] =
            TokenNll(step[t].logits, (*r->ids)[static_cast<size_t>(pos + 1)]);
      }
    }
    // Window order, position order: the order Evaluate adds them in.
    for (const WindowRun& r : runs) {
      for (double v : r.nll) sum += v;
      report.tokens += r.predicted();
    }
  }
  report.nll = sum / static_cast<double>(report.tokens);
  report.ppl = std::exp(report.nll);
  return report;
}

absl::StatusOr<PerplexityReport> Perplexity(const LlamaModel& model, std::span<const int32_t> ids,
                                            const PerplexityOptions& options) {
  absl::StatusOr<std::vector<std::vector<int32_t>>> windows =
      SplitIntoWindows(ids, options.context);
  if (!windows.ok()) return windows.status();
  return ScoreWindows(model, *windows, options);
}

absl::StatusOr<PerplexityReport> RunPerplexity(const PerplexityRequest& request) {
  // Flags first, so a typo fails before a model is loaded.
  if (request.model.empty()) return absl::InvalidArgumentError("--model is required");
  if (absl::Status s = CheckContext(request.context); !s.ok()) return s;
  if (request.batch < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--batch must be at least 1, got ", request.batch));
  }
  absl::StatusOr<AttentionWindow> attention = ParseAttention(request.attention);
  if (!attention.ok()) return attention.status();
  if (request.text_file.empty() == request.ids_file.empty()) {
    return absl::InvalidArgumentError("give exactly one of --text-file and --ids-file");
  }
  absl::StatusOr<ModelDir> dir = OpenModelDir(request.model);
  if (!dir.ok()) return dir.status();
  absl::StatusOr<std::vector<int32_t>> ids =
      LoadPerplexityTokens(*dir, request.text_file, request.ids_file);
  if (!ids.ok()) return ids.status();
  absl::StatusOr<std::unique_ptr<LlamaModel>> model = LlamaModel::Load(*dir);
  if (!model.ok()) return model.status();
  PerplexityOptions options;
  options.context = request.context;
  options.batch = request.batch;
  options.attention = *attention;
  options.page_size = request.page_size;
  return Perplexity(**model, *ids, options);
}

std::string PerplexityReportToJson(const PerplexityReport& r) {
  nlohmann::json j = {
      {"nll", r.nll},         {"ppl", r.ppl},     {"tokens", r.tokens},      {"windows", r.windows},
      {"context", r.context}, {"batch", r.batch}, {"attention", r.attention}};
  return j.dump();
}

}  // namespace accllm
