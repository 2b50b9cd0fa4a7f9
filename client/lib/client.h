// A client of accllm-server over one gRPC channel: generation (streamed),
// tokenization, model management and the worker registry. Thread-safe: many
// threads may call one Client at once (bench-serve does).
#ifndef ACCLLM_CLIENT_LIB_CLIENT_H_
#define ACCLLM_CLIENT_LIB_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"           // absl::Status
#include "absl/status/statusor.h"         // absl::StatusOr
#include "accllm/v1/cluster.grpc.pb.h"    // v1::Cluster
#include "accllm/v1/inference.grpc.pb.h"  // v1::Inference
#include "accllm/v1/models.grpc.pb.h"     // v1::Models
#include "grpcpp/channel.h"               // grpc::Channel
#include "grpcpp/client_context.h"        // grpc::ClientContext

namespace accllm::client {

struct ClientOptions {
  // How long Connect waits for the channel to become ready.
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(10);
  // Deadline of the quick unary calls (List, Get, Statistics, Tokenize, workers).
  std::chrono::milliseconds rpc_timeout = std::chrono::seconds(30);
  // Deadline of Load and Unload, which wait for the model to change state.
  std::chrono::milliseconds load_timeout = std::chrono::minutes(10);
  // TLS: the CA that signed the server's certificate (PEM path). Empty: plaintext.
  std::string tls_ca;
  // The name the server's certificate must carry, when it differs from the
  // address's host (e.g. dialling an IP whose certificate names a DNS name).
  std::string tls_server_name;
  // A role token, sent as "authorization: Bearer TOKEN" on every call. Empty: none.
  std::string token;
};

// What Generate returns once the stream ends.
struct GenerateResult {
  accllm::v1::FinishReason finish_reason = accllm::v1::FINISH_REASON_UNSPECIFIED;
  accllm::v1::Usage usage;  // from the last message (empty if the call was cancelled first)
  int64_t tokens = 0;       // token ids received over the whole stream
};

// A channel to `address` with the options' credentials (TLS when tls_ca is
// set), not yet connected; for calls the Client does not make (e.g. health).
absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(const std::string& address,
                                                           const ClientOptions& options);

class Client {
 public:
  // Called for every streamed message, in order. Return false to cancel the call.
  using MessageCallback = std::function<bool(const accllm::v1::GenerateResponse&)>;

  // Opens a channel to `address` (HOST:PORT or any gRPC target) and waits up to
  // options.connect_timeout for it to be ready. UNAVAILABLE names the address.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(const std::string& address,
                                                         const ClientOptions& options = {});
  // The same with default options but this connect timeout.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(const std::string& address,
                                                         std::chrono::milliseconds connect_timeout);

  const std::string& address() const { return address_; }

  // Streams one generation. Cancelling from the callback (returning false)
  // is not an error: the result says FINISH_REASON_CANCELLED. Server errors,
  // a broken stream and CancelAll() come back as a Status.
  absl::StatusOr<GenerateResult> Generate(const accllm::v1::GenerateRequest& request,
                                          const MessageCallback& on_message);
  // Cancels every Generate in flight and every later one (e.g. on Ctrl-C; call
  // from a normal thread, not from a signal handler). Each returns CANCELLED.
  void CancelAll();

  absl::StatusOr<accllm::v1::TokenizeResponse> Tokenize(const accllm::v1::TokenizeRequest& request);

  absl::StatusOr<std::vector<accllm::v1::ModelInfo>> ListModels(bool ready_only = false);
  absl::StatusOr<accllm::v1::ModelInfo> GetModel(const std::string& name);
  absl::StatusOr<accllm::v1::ModelInfo> LoadModel(const std::string& name);
  absl::StatusOr<accllm::v1::ModelInfo> UnloadModel(const std::string& name);
  // `name` empty: every model.
  absl::StatusOr<std::vector<accllm::v1::ModelStatistics>> Statistics(const std::string& name = "");

  absl::StatusOr<std::vector<accllm::v1::WorkerStatus>> ListWorkers();
  absl::StatusOr<accllm::v1::WorkerStatus> DrainWorker(const std::string& worker_id);

 private:
  Client(std::string address, std::shared_ptr<grpc::Channel> channel, ClientOptions options);

  // A context whose deadline is now + timeout.
  std::unique_ptr<grpc::ClientContext> UnaryContext(std::chrono::milliseconds timeout) const;
  // Adds what every call carries (the token).
  void Prepare(grpc::ClientContext& context) const;

  const std::string address_;
  const ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<accllm::v1::Inference::Stub> inference_;
  std::unique_ptr<accllm::v1::Models::Stub> models_;
  std::unique_ptr<accllm::v1::Cluster::Stub> cluster_;

  std::mutex mu_;
  std::set<grpc::ClientContext*> active_;  // Generate calls in flight, for CancelAll
  bool cancelled_ = false;                 // CancelAll was called
};

// "stop", "length", "context", "deadline", "cancelled", "error", "unspecified".
std::string FinishReasonText(accllm::v1::FinishReason reason);

}  // namespace accllm::client

#endif  // ACCLLM_CLIENT_LIB_CLIENT_H_
