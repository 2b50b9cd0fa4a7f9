// What the integration tests share: a model repository made by the project's
// own tools, accllm-server / accllm-worker processes on 127.0.0.1 (ephemeral
// ports, found through their ready files), a client, health checks.
#ifndef ACCLLM_TESTS_INTEGRATION_SERVING_FIXTURE_H_
#define ACCLLM_TESTS_INTEGRATION_SERVING_FIXTURE_H_

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "accllm/v1/inference.pb.h"      // v1::GenerateRequest
#include "gtest/gtest.h"                 // ::testing::Test
#include "client/lib/client.h"           // client::Client
#include "tests/integration/daemon.h"    // Daemon
#include "tests/support/test_env.h"      // TempDir, BinDir

namespace grpc {
class ChannelCredentials;
}  // namespace grpc

namespace accllm::testing {

class ServingTest : public ::testing::Test {
 protected:
  // repo/tiny: the synthetic tiny model (`accllm synth --shape tiny`, with a tokenizer).
  std::filesystem::path repo() const { return dir_ / "repo"; }
  void MakeTinyModel(const std::string& name, uint64_t seed = 1);
  // repo/<name> from ../shared stories260K; false when it is absent.
  bool MakeStories260K(const std::string& name);

  // accllm-server with `args` added to --listen/--metrics-listen/--ready-file/--model-repository.
  std::unique_ptr<Daemon> StartServer(const std::string& name, std::vector<std::string> args = {});
  // accllm-worker registering with `scheduler`.
  std::unique_ptr<Daemon> StartWorker(const std::string& name, const std::string& scheduler,
                                      std::vector<std::string> args = {});
  std::unique_ptr<client::Client> Connect(const Daemon& server);
  // Waits until `model` is READY on the server (and has `workers` workers).
  bool WaitReady(client::Client& c, const std::string& model, int workers = 1);

  // A greedy request for token ids, `n` tokens, never stopping early, Λ(4, 64).
  static v1::GenerateRequest GreedyIds(const std::string& model, std::vector<int32_t> prompt, int n);
  // Runs it to the end; the token ids, or empty with a failure recorded.
  static std::vector<int32_t> Collect(client::Client& c, const v1::GenerateRequest& request,
                                      v1::FinishReason* reason = nullptr);

  // Runs `requests` as concurrent streams; once every stream has received `min_tokens`,
  // calls `mid_stream` (e.g. kills a worker), then waits for every stream to end. Returns
  // each stream's tokens; `finished` counts streams that ended by length and `min_received`
  // is the fewest tokens any stream had when `mid_stream` ran.
  struct ConcurrentRun {
    std::vector<std::vector<int32_t>> tokens;
    int finished = 0;
    int min_received = 0;
  };
  static ConcurrentRun StreamConcurrently(client::Client& c,
                                          const std::vector<v1::GenerateRequest>& requests,
                                          int min_tokens, const std::function<void()>& mid_stream);

  TempDir dir_;
};

// grpc.health.v1.Health/Check: "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"... or the error.
// `credentials` null: plaintext.
std::string HealthStatus(const std::string& address, const std::string& service,
                         std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr);

}  // namespace accllm::testing

#endif  // ACCLLM_TESTS_INTEGRATION_SERVING_FIXTURE_H_
