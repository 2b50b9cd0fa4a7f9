// What both daemons (accllm-server, accllm-worker) do around their services:
// wait for SIGTERM/SIGINT without async-signal handlers, and announce where
// they listen once ready (tests and supervisors read the ready file).
#ifndef ACCLLM_COMMON_PROCESS_UTIL_H_
#define ACCLLM_COMMON_PROCESS_UTIL_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"  // absl::Status

namespace accllm {

// The start of both daemons' main(): blocks the termination signals (below),
// sets the usage text and parses absl flags, --with-dashes accepted.
void ParseDaemonFlags(int argc, char** argv, const char* usage);

// Blocks SIGTERM, SIGINT and SIGHUP in the calling thread and every thread it
// creates afterwards: call first thing in main.
void BlockTerminationSignals();
// Waits until one of them arrives; returns its number.
int WaitForTerminationSignal();

// Writes {"grpc": "...", "metrics": "...", "pid": N} (the given fields) atomically.
absl::Status WriteReadyFile(const std::string& path, const std::map<std::string, std::string>& fields);

// Users type --max-tokens; absl names the flag max_tokens. Rewrites the name
// part of one argument (values after '=' are kept as typed).
std::string NormalizeFlagDashes(std::string arg);
// The same over argv, for absl::ParseCommandLine.
std::vector<char*> NormalizedArgv(int argc, char** argv, std::vector<std::string>* storage);

// "HOST:PORT" with the port a server actually bound (gRPC reports it separately);
// "unix:PATH" unchanged.
std::string WithPort(const std::string& host_port, int port);

}  // namespace accllm

#endif  // ACCLLM_COMMON_PROCESS_UTIL_H_
