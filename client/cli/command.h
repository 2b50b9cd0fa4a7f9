// One `accllm <command>`: its name, help and entry point. Each command's flags
// are the ABSL_FLAGs defined in its own .cc file, so help can list exactly them.
#ifndef ACCLLM_CLIENT_CLI_COMMAND_H_
#define ACCLLM_CLIENT_CLI_COMMAND_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"    // absl::Status
#include "absl/status/statusor.h"  // absl::StatusOr
#include "model/dtype.h"           // DType

namespace accllm::cli {

struct Command {
  std::string_view name;
  std::string_view summary;  // one line for `accllm --help`
  std::string_view usage;    // synopsis and description for `accllm NAME --help`
  std::vector<std::string_view> flags;  // names of the flags it accepts (client/cli/flags.h)
  // Runs with flags already parsed; `args` are the positional arguments.
  absl::Status (*run)(const std::vector<std::string>& args);
};

const std::vector<Command>& AllCommands();

// Entry points (one per file).
absl::Status RunGenerate(const std::vector<std::string>& args);
absl::Status RunModels(const std::vector<std::string>& args);
absl::Status RunWorkers(const std::vector<std::string>& args);
absl::Status RunBenchServe(const std::vector<std::string>& args);
absl::Status RunSoak(const std::vector<std::string>& args);
absl::Status RunConvert(const std::vector<std::string>& args);
absl::Status RunRun(const std::vector<std::string>& args);
absl::Status RunSynth(const std::vector<std::string>& args);
absl::Status RunEval(const std::vector<std::string>& args);
absl::Status RunPerplexity(const std::vector<std::string>& args);
absl::Status RunQuantize(const std::vector<std::string>& args);
absl::Status RunBenchEngine(const std::vector<std::string>& args);
absl::Status RunFpgaModel(const std::vector<std::string>& args);
absl::Status RunHealth(const std::vector<std::string>& args);

// Parses "1 2 3" / "1,2,3" into ids; errors name the offending item.
absl::Status ParseTokenIds(std::string_view text, std::vector<int32_t>* ids);

// --dtype: "" (nullopt), f32, f16 or bf16.
absl::StatusOr<std::optional<DType>> ParseDtypeFlag(const std::string& text);

}  // namespace accllm::cli

#endif  // ACCLLM_CLIENT_CLI_COMMAND_H_
