#include "client/lib/serve_bench.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"   // absl::StrCat
#include "client/lib/percentile.h"  // Percentile

namespace accllm::client {

namespace v1 = accllm::v1;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int32_t kFirstPromptId = 3;  // skip the usual unk/bos/eos ids
constexpr int32_t kMaxConcurrency = 4096;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The vocabulary prompts are drawn from.
absl::StatusOr<int32_t> VocabSize(Client& client, const std::string& model) {
  if (!model.empty()) {
    absl::StatusOr<v1::ModelInfo> info = client.GetModel(model);
    if (!info.ok()) return info.status();
    return info->vocab_size();
  }
  // The server picks the default: ids valid for every ready model are valid for it.
  absl::StatusOr<std::vector<v1::ModelInfo>> models = client.ListModels(/*ready_only=*/true);
  if (!models.ok()) return models.status();
  if (models->empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("accllm-server at ", client.address(), " has no READY model"));
  }
  int32_t vocab = models->front().vocab_size();
  for (const v1::ModelInfo& m : *models) vocab = std::min(vocab, m.vocab_size());
  return vocab;
}

v1::GenerateRequest MakeRequest(const ServeBenchOptions& options, int32_t vocab, int64_t index) {
  v1::GenerateRequest request;
  request.set_model(options.model);
  std::mt19937_64 rng(options.seed + static_cast<uint64_t>(index));
  std::uniform_int_distribution<int32_t> id(kFirstPromptId, vocab - 1);
  v1::TokenIds* prompt = request.mutable_token_ids();
  for (int32_t i = 0; i < options.prompt_tokens; ++i) prompt->add_ids(id(rng));
  request.set_max_tokens(options.gen_tokens);
  request.set_ignore_eos(true);
  // Greedy, so the work per request does not depend on sampling.
  request.mutable_sampling()->set_temperature(0.0f);
  return request;
}

// Empty if the request ran to an end the benchmark asked for; else why not.
// The server ending it early (error, cancel, deadline) counts as an error.
std::string RequestError(const absl::StatusOr<GenerateResult>& result) {
  if (!result.ok()) return std::string(result.status().message());
  switch (result->finish_reason) {
    case v1::FINISH_REASON_ERROR:
    case v1::FINISH_REASON_CANCELLED:
    case v1::FINISH_REASON_DEADLINE:
      return absl::StrCat("the server finished a request with finish reason \"",
                          FinishReasonText(result->finish_reason), "\"");
    default:
      return "";
  }
}

// What one thread measured; merged at the end so the hot path takes no lock.
struct Samples {
  std::vector<double> ttft_s;
  std::vector<double> itl_s;
  int64_t completed = 0;
  int64_t prompt_tokens = 0;
  int64_t output_tokens = 0;
};

}  // namespace

absl::Status ValidateServeBenchOptions(const ServeBenchOptions& options) {
  auto positive = [](const char* name, int64_t value) -> absl::Status {
    if (value >= 1) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat("--", name, " must be at least 1, got ", value));
  };
  // One thread per stream: a typo like 100000 should not spawn that many.
  if (options.concurrency > kMaxConcurrency) {
    return absl::InvalidArgumentError(absl::StrCat("--concurrency must be at most ",
                                                   kMaxConcurrency, ", got ", options.concurrency));
  }
  for (absl::Status s :
       {positive("concurrency", options.concurrency), positive("requests", options.requests),
        positive("prompt-tokens", options.prompt_tokens),
        positive("gen-tokens", options.gen_tokens)}) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<ServeBenchReport> RunServeBench(Client& client, const ServeBenchOptions& options) {
  if (absl::Status s = ValidateServeBenchOptions(options); !s.ok()) return s;
  absl::StatusOr<int32_t> vocab = VocabSize(client, options.model);
  if (!vocab.ok()) return vocab.status();
  if (*vocab <= kFirstPromptId) {
    return absl::FailedPreconditionError(
        absl::StrCat("the model's vocabulary (", *vocab, ") is too small for random prompts"));
  }

  ServeBenchReport report;
  report.options = options;
  std::atomic<int64_t> next{0};
  std::mutex mu;  // guards report.errors, report.first_error and `all`
  Samples all;

  auto run_stream = [&] {
    Samples mine;
    for (int64_t i = next++; i < options.requests; i = next++) {
      const v1::GenerateRequest request = MakeRequest(options, *vocab, i);
      const Clock::time_point sent = Clock::now();
      Clock::time_point last;
      bool first = true;
      absl::StatusOr<GenerateResult> result =
          client.Generate(request, [&](const v1::GenerateResponse& message) {
            if (message.token_ids_size() == 0) return true;
            const Clock::time_point now = Clock::now();
            (first ? mine.ttft_s : mine.itl_s).push_back(Seconds(now - (first ? sent : last)));
            first = false;
            last = now;
            mine.output_tokens += message.token_ids_size();
            return true;
          });
      const std::string error = RequestError(result);
      if (error.empty()) {
        ++mine.completed;
        mine.prompt_tokens += result->usage.prompt_tokens() > 0 ? result->usage.prompt_tokens()
                                                                : options.prompt_tokens;
        continue;
      }
      std::lock_guard<std::mutex> lock(mu);
      if (report.errors++ == 0) report.first_error = error;
    }
    std::lock_guard<std::mutex> lock(mu);
    all.ttft_s.insert(all.ttft_s.end(), mine.ttft_s.begin(), mine.ttft_s.end());
    all.itl_s.insert(all.itl_s.end(), mine.itl_s.begin(), mine.itl_s.end());
    all.completed += mine.completed;
    all.prompt_tokens += mine.prompt_tokens;
    all.output_tokens += mine.output_tokens;
  };

  const Clock::time_point start = Clock::now();
  std::vector<std::thread> threads;
  const int32_t streams = std::min(options.concurrency, options.requests);
  threads.reserve(streams);
  for (int32_t t = 0; t < streams; ++t) threads.emplace_back(run_stream);
  for (std::thread& t : threads) t.join();
  report.wall_s = Seconds(Clock::now() - start);

  report.completed = all.completed;
  report.prompt_tokens = all.prompt_tokens;
  report.output_tokens = all.output_tokens;
  report.ttft_p50_s = Percentile(all.ttft_s, 50);
  report.ttft_p90_s = Percentile(all.ttft_s, 90);
  report.ttft_p99_s = Percentile(all.ttft_s, 99);
  report.itl_p50_s = Percentile(all.itl_s, 50);
  report.itl_p90_s = Percentile(all.itl_s, 90);
  report.itl_p99_s = Percentile(all.itl_s, 99);
  const double wall = std::max(report.wall_s, 1e-9);
  report.requests_per_s = static_cast<double>(report.completed) / wall;
  report.output_tokens_per_s = static_cast<double>(report.output_tokens) / wall;
  report.prompt_tokens_per_s = static_cast<double>(report.prompt_tokens) / wall;
  return report;
}

}  // namespace accllm::client
