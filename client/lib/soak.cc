#include "client/lib/soak.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"     // absl::StrCat
#include "client/lib/percentile.h"    // Percentile

namespace accllm::client {

namespace v1 = accllm::v1;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int32_t kFirstPromptId = 3;  // skip the usual unk/bos/eos ids
// Every stream carries a timeout, so a stuck one cannot hang the run.
constexpr double kStreamTimeoutS = 120;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

struct Reference {
  v1::GenerateRequest request;
  std::vector<int32_t> tokens;
  v1::FinishReason finish = v1::FINISH_REASON_UNSPECIFIED;
};

// Pool entry i: a prompt of 1..max_prompt random ids, 1..max_gen tokens, greedy
// for even i and seeded nucleus sampling for odd i.
v1::GenerateRequest PoolRequest(const SoakOptions& o, int32_t vocab, int32_t i) {
  std::mt19937_64 rng(o.seed * 1000003 + static_cast<uint64_t>(i));
  v1::GenerateRequest r;
  r.set_model(o.model);
  const int32_t prompt = std::uniform_int_distribution<int32_t>(1, o.max_prompt_tokens)(rng);
  std::uniform_int_distribution<int32_t> id(kFirstPromptId, vocab - 1);
  for (int32_t k = 0; k < prompt; ++k) r.mutable_token_ids()->add_ids(id(rng));
  r.set_max_tokens(std::uniform_int_distribution<int32_t>(1, o.max_gen_tokens)(rng));
  r.set_ignore_eos(true);  // lengths fixed by max_tokens: a short stream is visible
  if (i % 2 == 1) {
    r.mutable_sampling()->set_temperature(0.9f);
    r.mutable_sampling()->set_top_p(0.95f);
    r.mutable_sampling()->set_top_k(40);
    r.mutable_sampling()->set_seed(rng());
  }
  r.set_timeout_seconds(kStreamTimeoutS);
  return r;
}

bool IsPrefix(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  return a.size() <= b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// VmRSS in KB and the number of open fds of `pid`; false if it is gone.
bool SampleProcess(pid_t pid, double* rss_kb, double* fds) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  bool found = false;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      *rss_kb = std::stod(line.substr(6));
      found = true;
    }
  }
  if (!found) return false;
  std::error_code ec;
  int64_t n = 0;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end;
       !ec && it != end; it.increment(ec)) {
    ++n;
  }
  *fds = static_cast<double>(n);
  return !ec;
}

// What one client thread saw; merged at the end.
struct Tally {
  int64_t started = 0, completed = 0, deadline = 0, cancelled = 0, errors = 0, tokens = 0;
  int64_t lost = 0, duplicated = 0, mismatches = 0;
  std::vector<double> ttft_s;
  std::string first_error;
};

// One stream of pool entry `ref`, in `mode` 0 normal, 1 deadline, 2 cancel.
void RunOne(Client& client, const Reference& ref, int mode, std::mt19937_64& rng, Tally& t) {
  v1::GenerateRequest request = ref.request;
  const int64_t want = static_cast<int64_t>(ref.tokens.size());
  int64_t cancel_after = -1;
  if (mode == 1) {
    request.set_timeout_seconds(std::uniform_real_distribution<double>(0.02, 1.0)(rng));
  } else if (mode == 2) {
    cancel_after = std::uniform_int_distribution<int64_t>(1, std::max<int64_t>(1, want))(rng);
  }
  std::vector<int32_t> got;
  int64_t usage_tokens = -1;
  bool final_message = false;
  const Clock::time_point sent = Clock::now();
  ++t.started;
  absl::StatusOr<GenerateResult> result =
      client.Generate(request, [&](const v1::GenerateResponse& m) {
        if (got.empty() && m.token_ids_size() > 0) t.ttft_s.push_back(Seconds(Clock::now() - sent));
        got.insert(got.end(), m.token_ids().begin(), m.token_ids().end());
        if (m.finish_reason() != v1::FINISH_REASON_UNSPECIFIED) {
          final_message = true;
          usage_tokens = m.usage().completion_tokens();
        }
        return cancel_after < 0 || static_cast<int64_t>(got.size()) < cancel_after;
      });
  t.tokens += static_cast<int64_t>(got.size());
  // Duplicates first: more than the reference, or than the server says it sent.
  const bool duplicated = static_cast<int64_t>(got.size()) > want ||
                          (usage_tokens >= 0 && static_cast<int64_t>(got.size()) > usage_tokens);
  if (duplicated) {
    ++t.duplicated;
  } else if (!IsPrefix(got, ref.tokens)) {
    ++t.mismatches;
  }
  if (!result.ok()) {
    if (t.errors++ == 0) t.first_error = result.status().ToString();
    return;
  }
  switch (result->finish_reason) {
    case v1::FINISH_REASON_LENGTH:
    case v1::FINISH_REASON_STOP:
    case v1::FINISH_REASON_CONTEXT:
      ++t.completed;
      if (result->finish_reason != ref.finish) {
        ++t.mismatches;
      } else if (!duplicated && static_cast<int64_t>(got.size()) < want) {
        ++t.lost;  // ended "complete" short of the reference: tokens went missing
      }
      break;
    case v1::FINISH_REASON_DEADLINE:
      ++t.deadline;
      break;
    case v1::FINISH_REASON_CANCELLED:
      // Cancelled by us; a server-side cancel we did not ask for is a lost stream.
      ++t.cancelled;
      if (cancel_after < 0) ++t.lost;
      break;
    default:
      // OK status without a finish reason: the stream ended with no final message.
      if (!final_message) ++t.lost;
      if (t.errors++ == 0) {
        t.first_error = "finish reason " + FinishReasonText(result->finish_reason);
      }
      break;
  }
}

}  // namespace

double LeastSquaresSlope(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t n = std::min(x.size(), y.size());
  if (n < 2) return 0;
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; ++i) mx += x[i], my += y[i];
  mx /= n, my /= n;
  double sxy = 0, sxx = 0;
  for (size_t i = 0; i < n; ++i) sxy += (x[i] - mx) * (y[i] - my), sxx += (x[i] - mx) * (x[i] - mx);
  return sxx > 0 ? sxy / sxx : 0;
}

absl::StatusOr<SoakReport> RunSoak(Client& client, const SoakOptions& o) {
  if (o.model.empty()) return absl::InvalidArgumentError("soak needs --model");
  if (o.concurrency < 1 || o.concurrency > 1024 || o.pool < 1 || o.max_prompt_tokens < 1 ||
      o.max_gen_tokens < 1 || o.duration_s <= 0 || o.max_requests < 1) {
    return absl::InvalidArgumentError(
        "soak: concurrency in [1, 1024]; pool, prompt and gen tokens >= 1; duration > 0");
  }
  absl::StatusOr<v1::ModelInfo> info = client.GetModel(o.model);
  if (!info.ok()) return info.status();
  if (info->vocab_size() <= kFirstPromptId) {
    return absl::FailedPreconditionError("the model's vocabulary is too small for random prompts");
  }
  SoakReport report;

  // References, one at a time on the quiet server.
  const Clock::time_point ref_start = Clock::now();
  std::vector<Reference> refs(o.pool);
  for (int32_t i = 0; i < o.pool; ++i) {
    refs[i].request = PoolRequest(o, info->vocab_size(), i);
    absl::StatusOr<GenerateResult> r =
        client.Generate(refs[i].request, [&](const v1::GenerateResponse& m) {
          refs[i].tokens.insert(refs[i].tokens.end(), m.token_ids().begin(), m.token_ids().end());
          return true;
        });
    if (!r.ok()) return absl::Status(r.status().code(), "reference " + std::to_string(i) + ": " +
                                                            std::string(r.status().message()));
    refs[i].finish = r->finish_reason;
    if (refs[i].finish != v1::FINISH_REASON_LENGTH) {
      return absl::InternalError(absl::StrCat("reference ", i, " ended with \"",
                                              FinishReasonText(refs[i].finish), "\""));
    }
  }
  report.reference_s = Seconds(Clock::now() - ref_start);

  // Load.
  const Clock::time_point start = Clock::now();
  const Clock::time_point end = start + std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(o.duration_s));
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> in_flight{0};
  std::atomic<bool> load_done{false};
  std::mutex mu;  // guards `all`
  Tally all;
  auto client_thread = [&](int32_t index) {
    std::mt19937_64 rng(o.seed * 7919 + static_cast<uint64_t>(index) + 1);
    std::uniform_real_distribution<double> u(0, 1);
    Tally mine;
    while (Clock::now() < end && next++ < o.max_requests) {
      const Reference& ref = refs[std::uniform_int_distribution<int32_t>(0, o.pool - 1)(rng)];
      const double roll = u(rng);
      const int mode = roll < o.deadline_fraction                       ? 1
                       : roll < o.deadline_fraction + o.cancel_fraction ? 2
                                                                        : 0;
      ++in_flight;
      RunOne(client, ref, mode, rng, mine);
      --in_flight;
    }
    std::lock_guard<std::mutex> lock(mu);
    all.started += mine.started, all.completed += mine.completed, all.deadline += mine.deadline;
    all.cancelled += mine.cancelled, all.tokens += mine.tokens, all.lost += mine.lost;
    all.duplicated += mine.duplicated, all.mismatches += mine.mismatches;
    if (all.errors == 0 && mine.errors > 0) all.first_error = mine.first_error;
    all.errors += mine.errors;
    all.ttft_s.insert(all.ttft_s.end(), mine.ttft_s.begin(), mine.ttft_s.end());
  };

  // Monitor: faults the driver injects, workers seen dying, process samples.
  std::vector<double> t_min, rss, fds;
  auto monitor = [&] {
    std::map<std::string, int32_t> running;  // live worker → running sequences at last poll
    size_t next_reload = 0;
    bool drained = o.drain_at_s < 0;
    Clock::time_point next_sample = start;
    while (!load_done.load()) {
      const double at = Seconds(Clock::now() - start);
      if (next_reload < o.reload_at_s.size() && at >= o.reload_at_s[next_reload]) {
        ++next_reload;
        const int64_t flying = in_flight.load();
        absl::StatusOr<v1::ModelInfo> reloaded = client.LoadModel(o.model);
        if (reloaded.ok()) {
          ++report.faults["reload"];
          report.streams_in_flight_at_reload += flying;
        } else if (report.faults["reload_failed"]++ == 0) {
          report.first_reload_error = reloaded.status().ToString();
        }
      }
      absl::StatusOr<std::vector<v1::WorkerStatus>> workers = client.ListWorkers();
      if (workers.ok()) {
        std::map<std::string, int32_t> now;
        for (const v1::WorkerStatus& w : *workers) {
          if (w.state() == v1::WORKER_STATE_DOWN) continue;
          now[w.worker_id()] = w.running_sequences();
        }
        for (const auto& [id, held] : running) {
          if (now.count(id) > 0) continue;
          ++report.faults["worker_killed"];
          if (held > 0) ++report.faults["worker_killed_holding_streams"];
        }
        running = std::move(now);
        if (!drained && at >= o.drain_at_s) {
          for (const v1::WorkerStatus& w : *workers) {
            if (w.state() != v1::WORKER_STATE_UP || w.running_sequences() == 0) continue;
            if (client.DrainWorker(w.worker_id()).ok()) {
              drained = true;
              ++report.faults["drain"];
              report.streams_on_drained_worker = w.running_sequences();
            }
            break;
          }
        }
      }
      if (o.server_pid > 0 && Clock::now() >= next_sample) {
        double r = 0, f = 0;
        if (SampleProcess(o.server_pid, &r, &f)) {
          t_min.push_back(Seconds(Clock::now() - start) / 60);
          rss.push_back(r);
          fds.push_back(f);
        }
        next_sample += std::chrono::milliseconds(static_cast<int64_t>(o.sample_interval_s * 1000));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  };

  std::thread monitor_thread(monitor);
  std::vector<std::thread> threads;
  for (int32_t i = 0; i < o.concurrency; ++i) threads.emplace_back(client_thread, i);
  for (std::thread& t : threads) t.join();
  load_done = true;
  monitor_thread.join();
  report.wall_s = Seconds(Clock::now() - start);

  report.started = all.started, report.completed = all.completed, report.deadline = all.deadline;
  report.cancelled = all.cancelled, report.errors = all.errors, report.first_error = all.first_error;
  report.tokens = all.tokens, report.lost = all.lost, report.duplicated = all.duplicated;
  report.mismatches = all.mismatches;
  report.ttft_p50_s = Percentile(all.ttft_s, 50);
  report.ttft_p99_s = Percentile(all.ttft_s, 99);

  // Pages back: every sequence ended, so every live pool should drain to 0 (the
  // pool gauges refresh on their own period; give them a bounded while).
  const Clock::time_point pages_deadline = Clock::now() + std::chrono::seconds(30);
  do {
    absl::StatusOr<std::vector<v1::WorkerStatus>> workers = client.ListWorkers();
    if (workers.ok()) {
      report.kv_pages_used_end = 0;
      for (const v1::WorkerStatus& w : *workers) {
        if (w.state() != v1::WORKER_STATE_DOWN) report.kv_pages_used_end += w.kv_pages_used();
      }
      if (report.kv_pages_used_end == 0) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  } while (Clock::now() < pages_deadline);

  // Slopes after a warm-up (allocator arenas and gRPC pools fill in the first
  // minutes): the last three quarters of the samples.
  report.samples = static_cast<int64_t>(rss.size());
  if (!rss.empty()) {
    const size_t from = rss.size() / 4;
    const std::vector<double> x(t_min.begin() + from, t_min.end());
    report.rss_slope_kb_per_min =
        LeastSquaresSlope(x, std::vector<double>(rss.begin() + from, rss.end()));
    report.fd_slope_per_min =
        LeastSquaresSlope(x, std::vector<double>(fds.begin() + from, fds.end()));
    report.rss_start_kb = rss.front(), report.rss_end_kb = rss.back();
    report.fds_start = fds.front(), report.fds_end = fds.back();
  }
  return report;
}

std::string SoakReportJson(const SoakReport& r) {
  // NaN (no sample) is written as null.
  auto num = [](double v) { return std::isnan(v) ? std::string("null") : absl::StrCat(v); };
  std::string faults;
  for (const auto& [kind, n] : r.faults) {
    absl::StrAppend(&faults, faults.empty() ? "" : ", ", "\"", kind, "\": ", n);
  }
  // Quotes and backslashes dropped: a summary, not a transcript.
  auto summary = [](const std::string& text) {
    std::string out;
    for (char c : text) {
      if (c != '"' && c != '\\' && c >= ' ') out.push_back(c);
    }
    return out;
  };
  return absl::StrCat(
      "{\"streams_started\": ", r.started, ", \"completed\": ", r.completed,
      ", \"deadline\": ", r.deadline, ", \"cancelled\": ", r.cancelled,
      ", \"errors\": ", r.errors, ", \"first_error\": \"", summary(r.first_error),
      "\", \"tokens\": ", r.tokens, ", \"faults\": {", faults, "}, \"first_reload_error\": \"",
      summary(r.first_reload_error), "\", \"streams_in_flight_at_reload\": ",
      r.streams_in_flight_at_reload, ", \"streams_on_drained_worker\": ",
      r.streams_on_drained_worker, ", \"lost\": ", r.lost, ", \"duplicated\": ", r.duplicated,
      ", \"mismatches\": ", r.mismatches, ", \"kv_pages_used_end\": ", r.kv_pages_used_end,
      ", \"rss_slope_kb_per_min\": ", num(r.rss_slope_kb_per_min),
      ", \"fd_slope_per_min\": ", num(r.fd_slope_per_min), ", \"rss_start_kb\": ", r.rss_start_kb,
      ", \"rss_end_kb\": ", r.rss_end_kb, ", \"fds_start\": ", r.fds_start,
      ", \"fds_end\": ", r.fds_end, ", \"samples\": ", r.samples,
      ", \"ttft_p50_s\": ", num(r.ttft_p50_s), ", \"ttft_p99_s\": ", num(r.ttft_p99_s),
      ", \"reference_s\": ", num(r.reference_s), ", \"wall_s\": ", num(r.wall_s), "}");
}

}  // namespace accllm::client
