// A real gRPC server on 127.0.0.1 (port 0) implementing Inference, Models and
// Cluster with small fakes, so the client library and the CLI are tested over
// the wire without the engine.
//
// Models: "tiny" (READY, vocab 100), "flaky" (READY, vocab 50: every 4th
// Generate fails with INTERNAL "injected failure"), "slow" (READY: one token
// every 5 ms until max_tokens or the client cancels), "broken" (FAILED);
// anything else is NOT_FOUND. Generate streams max_tokens messages of one
// token each (ids 10, 11, ...; text "t10 ", ...), the last with finish_reason
// LENGTH and usage. An empty model name means "tiny".
#ifndef ACCLLM_TESTS_CLIENT_FAKE_ACCLLM_SERVER_H_
#define ACCLLM_TESTS_CLIENT_FAKE_ACCLLM_SERVER_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "grpcpp/server.h"  // grpc::Server

namespace accllm::testing {

class FakeAccllmServer {
 public:
  FakeAccllmServer();
  ~FakeAccllmServer();
  FakeAccllmServer(const FakeAccllmServer&) = delete;
  FakeAccllmServer& operator=(const FakeAccllmServer&) = delete;

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // What the fake observed.
  struct Observed {
    int64_t generate_calls = 0;
    int64_t cancelled_calls = 0;  // Generate calls the server saw cancelled
    int32_t min_prompt_id = 1 << 30;
    int32_t max_prompt_id = -1;
    int64_t ignore_eos_false = 0;  // requests sent without ignore_eos
    int32_t last_max_tokens = 0;
    bool last_had_seed = false;
  };
  Observed observed() const;
  // Waits until `cancelled_calls` reaches n; false on timeout.
  bool WaitForCancelled(int64_t n, std::chrono::milliseconds timeout) const;

  // Called by the services.
  void Record(const std::function<void(Observed&)>& update);

 private:
  class InferenceService;
  class ModelsService;
  class ClusterService;

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;
  Observed observed_;
  std::unique_ptr<InferenceService> inference_;
  std::unique_ptr<ModelsService> models_;
  std::unique_ptr<ClusterService> cluster_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace accllm::testing

#endif  // ACCLLM_TESTS_CLIENT_FAKE_ACCLLM_SERVER_H_
