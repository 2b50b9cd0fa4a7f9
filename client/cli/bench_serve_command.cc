// accllm bench-serve: closed-loop load against accllm-server (client/lib/serve_bench.h).
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"               // absl::GetFlag
#include "absl/strings/str_cat.h"          // absl::StrCat
#include "absl/strings/str_format.h"       // absl::StrFormat
#include "client/cli/command.h"            // RunBenchServe
#include "client/cli/flags.h"              // FLAGS_*
#include "client/cli/server_connection.h"  // ConnectToServer, CancelOnInterrupt
#include "client/lib/serve_bench.h"        // RunServeBench
#include "nlohmann/json.hpp"               // nlohmann::json

namespace accllm::cli {

namespace {

// Milliseconds read better than seconds at these scales; JSON keeps seconds.
std::string Latency(double seconds) {
  return std::isnan(seconds) ? "n/a" : absl::StrFormat("%.2f ms", seconds * 1e3);
}

void PrintJson(const client::ServeBenchReport& r) {
  // NaN (no sample) is written as null; ordered_json keeps the keys in this order.
  const nlohmann::ordered_json j = {
      {"concurrency", r.options.concurrency},
      {"requests", r.options.requests},
      {"prompt_tokens", r.options.prompt_tokens},
      {"gen_tokens", r.options.gen_tokens},
      {"ttft_p50_s", r.ttft_p50_s},
      {"ttft_p90_s", r.ttft_p90_s},
      {"ttft_p99_s", r.ttft_p99_s},
      {"itl_p50_s", r.itl_p50_s},
      {"itl_p90_s", r.itl_p90_s},
      {"itl_p99_s", r.itl_p99_s},
      {"requests_per_s", r.requests_per_s},
      {"output_tokens_per_s", r.output_tokens_per_s},
      {"prompt_tokens_per_s", r.prompt_tokens_per_s},
      {"errors", r.errors},
      {"wall_s", r.wall_s},
  };
  std::cout << j.dump() << "\n";
}

void PrintText(const client::ServeBenchReport& r) {
  std::cout << absl::StrFormat(
      "bench-serve: %d requests, concurrency %d, %d prompt + %d generated tokens each, "
      "%.3f s\n",
      r.options.requests, r.options.concurrency, r.options.prompt_tokens, r.options.gen_tokens,
      r.wall_s);
  std::cout << absl::StrFormat("  completed   %d, errors %d\n", r.completed, r.errors);
  std::cout << "  TTFT        p50 " << Latency(r.ttft_p50_s) << "  p90 " << Latency(r.ttft_p90_s)
            << "  p99 " << Latency(r.ttft_p99_s) << "\n";
  std::cout << "  ITL         p50 " << Latency(r.itl_p50_s) << "  p90 " << Latency(r.itl_p90_s)
            << "  p99 " << Latency(r.itl_p99_s) << "\n";
  std::cout << absl::StrFormat(
      "  throughput  %.2f requests/s, %.1f output tokens/s, %.1f prompt tokens/s\n",
      r.requests_per_s, r.output_tokens_per_s, r.prompt_tokens_per_s);
  if (r.errors > 0) std::cout << "  first error " << r.first_error << "\n";
}

}  // namespace

absl::Status RunBenchServe(const std::vector<std::string>& args) {
  if (!args.empty()) return absl::InvalidArgumentError("unexpected argument \"" + args[0] + "\"");
  client::ServeBenchOptions options;
  options.model = absl::GetFlag(FLAGS_model);
  options.concurrency = absl::GetFlag(FLAGS_concurrency);
  options.requests = absl::GetFlag(FLAGS_requests);
  options.prompt_tokens = absl::GetFlag(FLAGS_prompt_tokens);
  options.gen_tokens = absl::GetFlag(FLAGS_gen_tokens);
  const int64_t seed = absl::GetFlag(FLAGS_seed);
  options.seed = seed >= 0 ? static_cast<uint64_t>(seed) : 0;  // reproducible prompts by default
  if (absl::Status s = client::ValidateServeBenchOptions(options); !s.ok()) return s;

  absl::StatusOr<std::unique_ptr<client::Client>> client = ConnectToServer();
  if (!client.ok()) return client.status();
  absl::StatusOr<client::ServeBenchReport> report;
  {
    CancelOnInterrupt cancel_on_interrupt(**client);
    report = client::RunServeBench(**client, options);
    if (cancel_on_interrupt.interrupted()) return absl::CancelledError("cancelled (interrupted)");
  }
  if (!report.ok()) return report.status();
  if (absl::GetFlag(FLAGS_json)) {
    PrintJson(*report);
  } else {
    PrintText(*report);
  }
  if (report->completed == 0) {
    return absl::UnavailableError(
        absl::StrCat("every request failed; the first: ", report->first_error));
  }
  return absl::OkStatus();
}

}  // namespace accllm::cli
