// What the server says about one worker (Cluster.ListWorkers), for tests that must check
// a precondition before they act on a worker process: that it holds streams, that it is
// down, that it came back.
#ifndef ACCLLM_TESTS_INTEGRATION_WORKER_VIEW_H_
#define ACCLLM_TESTS_INTEGRATION_WORKER_VIEW_H_

#include <optional>
#include <string>
#include <vector>

#include "accllm/v1/cluster.pb.h"  // v1::WorkerStatus
#include "client/lib/client.h"     // client::Client

namespace accllm::testing {

// The server's record of the worker at `address`; nullopt when it has none (or the call failed).
inline std::optional<v1::WorkerStatus> WorkerAt(client::Client& c, const std::string& address) {
  absl::StatusOr<std::vector<v1::WorkerStatus>> workers = c.ListWorkers();
  if (!workers.ok()) return std::nullopt;
  for (const v1::WorkerStatus& w : *workers) {
    if (w.address() == address) return w;
  }
  return std::nullopt;
}

// Sequences the server's schedulers run on that worker (refreshed every 250 ms); -1 if unknown.
inline int RunningOn(client::Client& c, const std::string& address) {
  std::optional<v1::WorkerStatus> w = WorkerAt(c, address);
  return w ? w->running_sequences() : -1;
}

inline bool HasState(client::Client& c, const std::string& address, v1::WorkerState state) {
  std::optional<v1::WorkerStatus> w = WorkerAt(c, address);
  return w && w->state() == state;
}

}  // namespace accllm::testing

#endif  // ACCLLM_TESTS_INTEGRATION_WORKER_VIEW_H_
