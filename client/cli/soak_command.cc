// accllm soak: sustained mixed load with every stream checked (client/lib/soak.h).
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"               // ABSL_FLAG, absl::GetFlag
#include "absl/strings/numbers.h"          // absl::SimpleAtod
#include "absl/strings/str_cat.h"          // absl::StrCat
#include "absl/strings/str_split.h"        // absl::StrSplit
#include "client/cli/command.h"            // RunSoak
#include "client/cli/flags.h"              // FLAGS_server, FLAGS_model, ...
#include "client/cli/server_connection.h"  // ConnectToServer, CancelOnInterrupt
#include "client/lib/soak.h"               // client::RunSoak

// Only soak reads these, so they live here rather than in flags.cc.
ABSL_FLAG(double, soak_seconds, 600, "seconds of load after the references");
ABSL_FLAG(int32_t, pool, 48, "distinct requests the clients draw from (references computed first)");
ABSL_FLAG(std::string, reload_at, "", "seconds into the load at which to reload --model, e.g. 100,400");
ABSL_FLAG(double, drain_at, -1, "seconds into the load at which to drain one worker (< 0: never)");
ABSL_FLAG(int32_t, server_pid, 0, "pid of accllm-server on this host: sample its RSS and fds");

namespace accllm::cli {

absl::Status RunSoak(const std::vector<std::string>& args) {
  if (!args.empty()) return absl::InvalidArgumentError("unexpected argument \"" + args[0] + "\"");
  client::SoakOptions options;
  options.model = absl::GetFlag(FLAGS_model);
  options.concurrency = absl::GetFlag(FLAGS_concurrency);
  options.duration_s = absl::GetFlag(FLAGS_soak_seconds);
  options.pool = absl::GetFlag(FLAGS_pool);
  options.max_prompt_tokens = absl::GetFlag(FLAGS_prompt_tokens);
  options.max_gen_tokens = absl::GetFlag(FLAGS_gen_tokens);
  const int64_t seed = absl::GetFlag(FLAGS_seed);
  options.seed = seed >= 0 ? static_cast<uint64_t>(seed) : 0;
  for (absl::string_view item :
       absl::StrSplit(absl::GetFlag(FLAGS_reload_at), ',', absl::SkipWhitespace())) {
    double at;
    if (!absl::SimpleAtod(item, &at)) {
      return absl::InvalidArgumentError(absl::StrCat("--reload-at: \"", item, "\" is not seconds"));
    }
    options.reload_at_s.push_back(at);
  }
  options.drain_at_s = absl::GetFlag(FLAGS_drain_at);
  options.server_pid = absl::GetFlag(FLAGS_server_pid);

  absl::StatusOr<std::unique_ptr<client::Client>> client = ConnectToServer();
  if (!client.ok()) return client.status();
  absl::StatusOr<client::SoakReport> report;
  {
    CancelOnInterrupt cancel_on_interrupt(**client);
    report = client::RunSoak(**client, options);
    if (cancel_on_interrupt.interrupted()) return absl::CancelledError("cancelled (interrupted)");
  }
  if (!report.ok()) return report.status();
  std::cout << client::SoakReportJson(*report) << "\n";
  if (report->lost + report->duplicated + report->mismatches > 0) {
    return absl::DataLossError("soak: streams lost, duplicated or differing from their reference");
  }
  return absl::OkStatus();
}

}  // namespace accllm::cli
