// accllm models list|get NAME|load NAME|unload NAME|stats [NAME]: the server's
// model repository, as a table or (--json) as the proto's JSON.
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"               // absl::GetFlag
#include "absl/strings/str_cat.h"          // absl::StrCat
#include "absl/strings/str_format.h"       // absl::StrFormat
#include "absl/strings/str_join.h"         // absl::StrJoin
#include "client/cli/command.h"            // RunModels
#include "client/cli/flags.h"              // FLAGS_json
#include "client/cli/server_connection.h"  // ConnectToServer, FormatTable, ToJson

namespace accllm::cli {

namespace v1 = accllm::v1;

namespace {

std::string StateText(v1::ModelState state) {
  return EnumSuffix(v1::ModelState_Name(state), "MODEL_STATE_");
}

void PrintModels(const std::vector<v1::ModelInfo>& models) {
  if (absl::GetFlag(FLAGS_json)) {
    v1::ListModelsResponse response;
    for (const v1::ModelInfo& m : models) *response.add_models() = m;
    std::cout << ToJson(response) << "\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::ModelInfo& m : models) {
    rows.push_back({m.name(), StateText(m.state()), absl::StrCat(m.version()),
                    m.quantization().empty() ? "-" : m.quantization(),
                    absl::StrCat(m.max_context()), m.reason()});
  }
  std::cout << FormatTable({"NAME", "STATE", "VERSION", "QUANTIZATION", "CONTEXT", "REASON"}, rows);
}

void PrintModel(const v1::ModelInfo& m) {
  if (absl::GetFlag(FLAGS_json)) {
    std::cout << ToJson(m) << "\n";
    return;
  }
  std::cout << FormatTable(
      {"FIELD", "VALUE"},
      {{"name", m.name()},
       {"state", StateText(m.state())},
       {"reason", m.reason()},
       {"version", absl::StrCat(m.version())},
       {"path", m.path()},
       {"layers", absl::StrCat(m.layers())},
       {"hidden_size", absl::StrCat(m.hidden_size())},
       {"vocab_size", absl::StrCat(m.vocab_size())},
       {"max_context", absl::StrCat(m.max_context())},
       {"quantization", m.quantization()},
       {"attention", absl::StrCat("lambda:", m.default_sinks(), ",", m.default_window())},
       {"workers", absl::StrJoin(m.workers(), ",")}});
}

void PrintStatistics(const std::vector<v1::ModelStatistics>& stats) {
  if (absl::GetFlag(FLAGS_json)) {
    v1::ModelStatisticsResponse response;
    for (const v1::ModelStatistics& s : stats) *response.add_models() = s;
    std::cout << ToJson(response) << "\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const v1::ModelStatistics& s : stats) {
    rows.push_back({s.name(), absl::StrCat(s.version()), absl::StrCat(s.requests_success()),
                    absl::StrCat(s.requests_failed()), absl::StrCat(s.requests_cancelled()),
                    absl::StrCat(s.prompt_tokens()), absl::StrCat(s.generated_tokens()),
                    absl::StrFormat("%.3f", s.queue_seconds()),
                    absl::StrFormat("%.3f", s.prefill_seconds()),
                    absl::StrFormat("%.3f", s.decode_seconds()), absl::StrCat(s.preemptions())});
  }
  std::cout << FormatTable({"NAME", "VERSION", "SUCCESS", "FAILED", "CANCELLED", "PROMPT_TOKENS",
                            "GENERATED_TOKENS", "QUEUE_S", "PREFILL_S", "DECODE_S", "PREEMPTIONS"},
                           rows);
}

// The positional NAME of get/load/unload.
absl::StatusOr<std::string> OneName(const std::vector<std::string>& args) {
  if (args.size() != 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("`models ", args[0], "` takes exactly one model name"));
  }
  return args[1];
}

}  // namespace

absl::Status RunModels(const std::vector<std::string>& args) {
  const std::string sub = args.empty() ? "list" : args[0];
  if (sub != "list" && sub != "get" && sub != "load" && sub != "unload" && sub != "stats") {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown subcommand \"", sub, "\" (list, get NAME, load NAME, unload NAME, stats [NAME])"));
  }
  if ((sub == "list" && args.size() > 1) || (sub == "stats" && args.size() > 2)) {
    return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", args.back(), "\""));
  }
  absl::StatusOr<std::string> name = std::string();
  if (sub == "get" || sub == "load" || sub == "unload") name = OneName(args);
  if (sub == "stats" && args.size() == 2) name = args[1];
  if (!name.ok()) return name.status();

  absl::StatusOr<std::unique_ptr<client::Client>> client = ConnectToServer();
  if (!client.ok()) return client.status();
  if (sub == "list") {
    absl::StatusOr<std::vector<v1::ModelInfo>> models = (*client)->ListModels();
    if (!models.ok()) return models.status();
    PrintModels(*models);
  } else if (sub == "stats") {
    absl::StatusOr<std::vector<v1::ModelStatistics>> stats = (*client)->Statistics(*name);
    if (!stats.ok()) return stats.status();
    PrintStatistics(*stats);
  } else {
    absl::StatusOr<v1::ModelInfo> info = sub == "get"    ? (*client)->GetModel(*name)
                                         : sub == "load" ? (*client)->LoadModel(*name)
                                                         : (*client)->UnloadModel(*name);
    if (!info.ok()) return info.status();
    if (sub == "get") {
      PrintModel(*info);
    } else {
      PrintModels({*info});
    }
  }
  return absl::OkStatus();
}

}  // namespace accllm::cli
