// accllm: the command line. `accllm COMMAND [flags]`; `accllm COMMAND --help`.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/parse.h"       // absl::ParseCommandLine
#include "absl/flags/reflection.h"  // absl::FindCommandLineFlag
#include "absl/flags/usage.h"       // absl::SetProgramUsageMessage
#include "client/cli/command.h"     // AllCommands
#include "common/process_util.h"  // NormalizeFlagDashes
#include "spdlog/sinks/stdout_color_sinks.h"  // spdlog::stderr_color_mt
#include "spdlog/spdlog.h"          // spdlog::set_default_logger

namespace accllm::cli {
namespace {

std::string DisplayName(std::string_view name) {
  std::string out(name);
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

void PrintOverview(std::ostream& out) {
  out << "accllm: long-context LLM serving on edge hardware\n\n"
         "usage: accllm COMMAND [flags]\n\ncommands:\n";
  for (const Command& c : AllCommands()) {
    out << "  " << c.name << std::string(10 - std::min<size_t>(9, c.name.size()), ' ')
        << c.summary << "\n";
  }
  out << "\n`accllm COMMAND --help` lists a command's flags.\n";
}

bool FlagBelongsTo(const absl::CommandLineFlag& flag, const Command& command) {
  const std::string name(flag.Name());
  return std::find(command.flags.begin(), command.flags.end(), name) != command.flags.end();
}

void PrintCommandHelp(const Command& command) {
  std::cout << "usage: " << command.usage << "\n\nflags:\n";
  for (std::string_view name : command.flags) {
    const absl::CommandLineFlag* flag =
        absl::FindCommandLineFlag(absl::string_view(name.data(), name.size()));
    if (flag == nullptr) continue;
    std::cout << "  --" << DisplayName(name) << "  " << flag->Help();
    const std::string def = flag->DefaultValue();
    if (!def.empty()) std::cout << " (default: " << def << ")";
    std::cout << "\n";
  }
}

// Rejects flags of other commands before absl parses (absl knows them all).
bool CheckFlagsBelong(const Command& command, const std::vector<std::string>& argv) {
  for (size_t i = 2; i < argv.size(); ++i) {
    std::string arg = argv[i];
    if (arg == "--") break;
    if (arg.rfind("-", 0) != 0 || arg.size() < 2) continue;
    arg = arg.substr(arg.find_first_not_of('-'));
    const std::string name = arg.substr(0, arg.find('='));
    const absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr && name.rfind("no", 0) == 0) flag = absl::FindCommandLineFlag(name.substr(2));
    if (flag != nullptr && !FlagBelongsTo(*flag, command)) {
      std::cerr << "accllm " << command.name << ": --" << DisplayName(name)
                << " is not a flag of this command"
                << " (see `accllm " << command.name << " --help`)\n";
      return false;
    }
  }
  return true;
}

int Main(int argc, char** argv) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("accllm"));
  spdlog::set_pattern("%^[%l]%$ %v");
  if (argc < 2) {
    PrintOverview(std::cerr);
    return 2;
  }
  const std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    PrintOverview(std::cout);
    return 0;
  }
  const Command* command = nullptr;
  for (const Command& c : AllCommands()) {
    if (c.name == name) command = &c;
  }
  if (command == nullptr) {
    std::cerr << "accllm: unknown command \"" << name << "\"\n\n";
    PrintOverview(std::cerr);
    return 2;
  }
  std::vector<std::string> normalized;
  for (int i = 0; i < argc; ++i) {
    normalized.push_back(i >= 2 ? NormalizeFlagDashes(argv[i]) : std::string(argv[i]));
    if (i >= 2 && (normalized.back() == "--help" || normalized.back() == "-h" ||
                   normalized.back() == "--helpfull")) {
      PrintCommandHelp(*command);
      return 0;
    }
  }
  if (!CheckFlagsBelong(*command, normalized)) return 2;
  absl::SetProgramUsageMessage(std::string(command->usage));
  std::string program = "accllm " + name;
  std::vector<char*> args = {program.data()};
  for (size_t i = 2; i < normalized.size(); ++i) args.push_back(normalized[i].data());
  std::vector<char*> rest = absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  const std::vector<std::string> positional(rest.begin() + 1, rest.end());
  absl::Status status = command->run(positional);
  if (!status.ok()) {
    std::cerr << "accllm " << name << ": " << status.message() << "\n";
    return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  return 0;
}

}  // namespace
}  // namespace accllm::cli

int main(int argc, char** argv) { return accllm::cli::Main(argc, argv); }
