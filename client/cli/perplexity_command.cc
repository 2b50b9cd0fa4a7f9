// accllm perplexity: a model's perplexity on a text, in non-overlapping windows.
#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"          // absl::GetFlag
#include "absl/strings/str_format.h"  // absl::StrFormat
#include "client/cli/command.h"       // RunPerplexity
#include "client/cli/flags.h"         // FLAGS_*
#include "client/eval/perplexity.h"   // RunPerplexity
#include "spdlog/spdlog.h"            // spdlog::info

namespace accllm::cli {

namespace {
constexpr int64_t kDefaultContext = 512;
}  // namespace

absl::Status RunPerplexity(const std::vector<std::string>& args) {
  if (!args.empty()) return absl::InvalidArgumentError("unexpected argument \"" + args[0] + "\"");
  PerplexityRequest request;
  request.model = absl::GetFlag(FLAGS_model);
  request.text_file = absl::GetFlag(FLAGS_text_file);
  request.ids_file = absl::GetFlag(FLAGS_ids_file);
  // --context is shared with bench-engine, whose default is 0; here 0 means the default 512.
  const int64_t context = absl::GetFlag(FLAGS_context);
  request.context = context == 0 ? kDefaultContext : context;
  request.attention = absl::GetFlag(FLAGS_attention);
  request.batch = absl::GetFlag(FLAGS_batch);
  request.page_size = absl::GetFlag(FLAGS_page_size);
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<PerplexityReport> report = accllm::RunPerplexity(request);
  if (!report.ok()) return report.status();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  spdlog::info("scored {} windows ({} predicted tokens) in {:.2f} s", report->windows,
               report->tokens, seconds);
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << PerplexityReportToJson(*report) << "\n";
  } else {
    std::cout << absl::StrFormat("nll %.6f\nppl %.4f\ntokens %d\nwindows %d\n", report->nll,
                                 report->ppl, report->tokens, report->windows);
  }
  return absl::OkStatus();
}

}  // namespace accllm::cli
