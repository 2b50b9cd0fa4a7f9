// soak: sustained mixed load against accllm-server that checks every stream.
// Clients draw from a bounded pool of distinct requests (random prompts and
// lengths, greedy or seeded sampling) whose single-request references are
// computed first, one at a time, on the quiet server; then `concurrency`
// threads run them for `duration_s` with random deadlines and cancellations
// while the caller (or the driver itself) injects faults. Every stream is
// compared with its reference: completed ones must equal it, ones ended early
// must be a prefix of it. A monitor thread watches the worker registry (to
// count workers that died holding streams) and samples the server's RSS and
// open file descriptors from /proc.
#ifndef ACCLLM_CLIENT_LIB_SOAK_H_
#define ACCLLM_CLIENT_LIB_SOAK_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"  // absl::StatusOr
#include "client/lib/client.h"     // Client

namespace accllm::client {

struct SoakOptions {
  std::string model;  // required: references and reloads name it
  int32_t concurrency = 64;
  double duration_s = 600;
  int64_t max_requests = 1'000'000;  // a second bound on the load loop
  int32_t pool = 48;                 // distinct requests the clients draw from
  int32_t max_prompt_tokens = 40;
  int32_t max_gen_tokens = 80;
  uint64_t seed = 0;
  double deadline_fraction = 0.1;  // requests sent with a short timeout_seconds
  double cancel_fraction = 0.1;    // requests the client cancels after a few tokens
  // Faults the driver injects itself, at these seconds into the load.
  std::vector<double> reload_at_s;  // Models.Load of `model` (a new version)
  double drain_at_s = -1;           // Cluster.DrainWorker of one UP worker; < 0: none
  pid_t server_pid = 0;             // > 0: sample its VmRSS and fd count (same host)
  double sample_interval_s = 1;
};

struct SoakReport {
  int64_t started = 0;
  int64_t completed = 0;  // ended by length/stop (compared with the reference)
  int64_t deadline = 0;   // ended by its timeout_seconds (must be a prefix)
  int64_t cancelled = 0;  // cancelled by the client (must be a prefix)
  int64_t errors = 0;     // ended with a gRPC status other than OK
  std::string first_error;
  int64_t tokens = 0;      // every token received
  int64_t lost = 0;        // no final message, or completed short of the reference
  int64_t duplicated = 0;  // more tokens than the reference or than the server's usage count
  int64_t mismatches = 0;  // a token differing from the reference
  // Faults by kind: "worker_killed" (seen DOWN by the monitor; "worker_killed_holding_streams"
  // counts those that had running sequences at the poll before), "reload", "drain".
  std::map<std::string, int64_t> faults;
  std::string first_reload_error;  // why the first "reload_failed" failed
  int64_t streams_in_flight_at_reload = 0;  // summed over reloads
  int64_t streams_on_drained_worker = 0;    // its running sequences when drained
  int64_t kv_pages_used_end = -1;           // summed over live workers after the load
  double rss_slope_kb_per_min = 0, fd_slope_per_min = 0;
  double rss_start_kb = 0, rss_end_kb = 0, fds_start = 0, fds_end = 0;
  int64_t samples = 0;
  double ttft_p50_s = 0, ttft_p99_s = 0;
  double reference_s = 0, wall_s = 0;
};

// Least-squares slope of y over x (0 with fewer than two points).
double LeastSquaresSlope(const std::vector<double>& x, const std::vector<double>& y);

// Runs the soak (worker kills come from outside: the monitor only observes
// them). The Status is for a run that cannot start; stream failures are counted.
absl::StatusOr<SoakReport> RunSoak(Client& client, const SoakOptions& options);

// The report as one JSON object (keys as in SoakReport).
std::string SoakReportJson(const SoakReport& report);

}  // namespace accllm::client

#endif  // ACCLLM_CLIENT_LIB_SOAK_H_
