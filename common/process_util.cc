#include "common/process_util.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>

#include "absl/flags/parse.h"      // absl::ParseCommandLine
#include "absl/flags/usage.h"      // absl::SetProgramUsageMessage
#include "absl/strings/str_cat.h"  // absl::StrCat
#include "model/file_util.h"       // WriteFileAtomically
#include "nlohmann/json.hpp"       // nlohmann::json

namespace accllm {

namespace {
sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}
}  // namespace

void BlockTerminationSignals() {
  sigset_t set = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A client that vanishes mid-write must not kill the daemon.
  signal(SIGPIPE, SIG_IGN);
}

int WaitForTerminationSignal() {
  sigset_t set = TerminationSignals();
  int signal_number = 0;
  while (sigwait(&set, &signal_number) != 0) {
  }
  return signal_number;
}

absl::Status WriteReadyFile(const std::string& path,
                            const std::map<std::string, std::string>& fields) {
  nlohmann::json json = nlohmann::json::object();
  for (const auto& [key, value] : fields) json[key] = value;
  json["pid"] = static_cast<int64_t>(getpid());
  return WriteFileAtomically(path, json.dump() + "\n");
}

void ParseDaemonFlags(int argc, char** argv, const char* usage) {
  BlockTerminationSignals();
  absl::SetProgramUsageMessage(usage);
  std::vector<std::string> storage;
  std::vector<char*> args = NormalizedArgv(argc, argv, &storage);
  absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
}

std::string NormalizeFlagDashes(std::string arg) {
  if (arg.size() < 3 || arg[0] != '-' || arg == "--") return arg;
  const size_t start = arg.find_first_not_of('-');
  const size_t end = std::min(arg.find('='), arg.size());
  for (size_t i = start; i < end; ++i) {
    if (arg[i] == '-') arg[i] = '_';
  }
  return arg;
}

std::vector<char*> NormalizedArgv(int argc, char** argv, std::vector<std::string>* storage) {
  storage->clear();
  bool positional = false;  // after "--" nothing is a flag
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (i > 0 && !positional) {
      if (arg == "--") positional = true;
      arg = NormalizeFlagDashes(std::move(arg));
    }
    storage->push_back(std::move(arg));
  }
  std::vector<char*> out;
  for (std::string& s : *storage) out.push_back(s.data());
  return out;
}

std::string WithPort(const std::string& host_port, int port) {
  if (host_port.rfind("unix:", 0) == 0) return host_port;  // a socket has no port
  const size_t colon = host_port.rfind(':');
  return absl::StrCat(host_port.substr(0, colon), ":", port);
}

}  // namespace accllm
