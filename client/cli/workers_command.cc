// accllm workers [list] | accllm workers drain ID: the server's worker registry.
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"               // absl::GetFlag
#include "absl/strings/str_cat.h"          // absl::StrCat
#include "absl/strings/str_format.h"       // absl::StrFormat
#include "absl/strings/str_join.h"         // absl::StrJoin
#include "client/cli/command.h"            // RunWorkers
#include "client/cli/flags.h"              // FLAGS_json
#include "client/cli/server_connection.h"  // ConnectToServer, FormatTable, ToJson

namespace accllm::cli {

namespace v1 = accllm::v1;

namespace {

void PrintWorkers(const std::vector<v1::WorkerStatus>& workers) {
  if (absl::GetFlag(FLAGS_json)) {
    v1::ListWorkersResponse response;
    for (const v1::WorkerStatus& w : workers) *response.add_workers() = w;
    std::cout << ToJson(response) << "\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::WorkerStatus& w : workers) {
    const v1::DeviceCounters& c = w.device_counters();
    rows.push_back({w.worker_id(), w.address(), w.device(), w.backend(),
                    EnumSuffix(v1::WorkerState_Name(w.state()), "WORKER_STATE_"),
                    absl::StrCat(w.kv_pages_used(), "/", w.kv_pages_total()),
                    absl::StrFormat("%.1f", w.steps_per_second()),
                    absl::StrCat(w.running_sequences()),
                    absl::StrFormat("%.2f", static_cast<double>(c.bytes_read()) * 1e-9),
                    absl::StrCat(c.launches()), absl::StrFormat("%.3f", c.kernel_seconds()),
                    absl::StrJoin(w.models(), ",")});
  }
  std::cout << FormatTable(
      {"ID", "ADDRESS", "DEVICE", "BACKEND", "STATE", "KV_PAGES", "STEPS/S", "RUNNING",
       "DEVICE_GB_READ", "LAUNCHES", "KERNEL_S", "MODELS"},
      rows);
}

}  // namespace

absl::Status RunWorkers(const std::vector<std::string>& args) {
  const std::string sub = args.empty() ? "list" : args[0];
  if (sub != "list" && sub != "drain") {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown subcommand \"", sub, "\" (list, drain ID)"));
  }
  if (sub == "list" && args.size() > 1) {
    return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", args[1], "\""));
  }
  if (sub == "drain" && args.size() != 2) {
    return absl::InvalidArgumentError("`workers drain` takes exactly one worker id");
  }
  absl::StatusOr<std::unique_ptr<client::Client>> client = ConnectToServer();
  if (!client.ok()) return client.status();
  if (sub == "drain") {
    absl::StatusOr<v1::WorkerStatus> worker = (*client)->DrainWorker(args[1]);
    if (!worker.ok()) return worker.status();
    PrintWorkers({*worker});
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<v1::WorkerStatus>> workers = (*client)->ListWorkers();
  if (!workers.ok()) return workers.status();
  PrintWorkers(*workers);
  return absl::OkStatus();
}

}  // namespace accllm::cli
