// bench-serve: a closed-loop load generator. `concurrency` threads each keep one
// Generate stream open at a time until `requests` have been sent in total, with
// synthetic prompts of random token ids, and the latencies a user of the
// server sees are measured on arrival.
#ifndef ACCLLM_CLIENT_LIB_SERVE_BENCH_H_
#define ACCLLM_CLIENT_LIB_SERVE_BENCH_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"    // absl::Status
#include "absl/status/statusor.h"  // absl::StatusOr
#include "client/lib/client.h"     // Client

namespace accllm::client {

struct ServeBenchOptions {
  std::string model;  // empty: the server's default model
  int32_t concurrency = 1;
  int32_t requests = 16;
  int32_t prompt_tokens = 128;
  int32_t gen_tokens = 128;  // max_tokens, with ignore_eos so every request runs to it
  uint64_t seed = 0;         // prompt i is drawn from seed + i (independent of threads)
};

struct ServeBenchReport {
  ServeBenchOptions options;
  int64_t completed = 0;  // requests that ended without an error
  int64_t errors = 0;
  std::string first_error;    // message of the first error seen, if any
  int64_t prompt_tokens = 0;  // of completed requests
  int64_t output_tokens = 0;  // every token received, including by failed requests
  double wall_s = 0;
  // Time to first token: request sent → first message carrying a token.
  double ttft_p50_s = 0, ttft_p90_s = 0, ttft_p99_s = 0;
  // Inter-token latency: gap between successive messages carrying tokens.
  double itl_p50_s = 0, itl_p90_s = 0, itl_p99_s = 0;
  double requests_per_s = 0;       // completed / wall
  double output_tokens_per_s = 0;  // output_tokens / wall
  double prompt_tokens_per_s = 0;  // prompt_tokens / wall
};

// Rejects counts that cannot make a run (any count < 1, concurrency > 4096).
absl::Status ValidateServeBenchOptions(const ServeBenchOptions& options);

// Runs the benchmark. The vocabulary for the random prompts (ids in [3, vocab))
// comes from Models.Get (for an empty model: the smallest of the ready models).
// Per-request errors are counted, not returned; the Status is for a run that
// cannot start (bad options, unknown model).
absl::StatusOr<ServeBenchReport> RunServeBench(Client& client, const ServeBenchOptions& options);

}  // namespace accllm::client

#endif  // ACCLLM_CLIENT_LIB_SERVE_BENCH_H_
