#include "client/lib/client.h"

#include <utility>

#include "absl/strings/str_cat.h"         // absl::StrCat
#include "client/lib/grpc_status.h"       // FromGrpcStatus
#include "grpcpp/create_channel.h"        // grpc::CreateChannel
#include "grpcpp/security/credentials.h"  // grpc::InsecureChannelCredentials

namespace accllm::client {

namespace v1 = accllm::v1;

namespace {

std::string ChannelStateName(grpc_connectivity_state state) {
  switch (state) {
    case GRPC_CHANNEL_IDLE:
      return "IDLE";
    case GRPC_CHANNEL_CONNECTING:
      return "CONNECTING";
    case GRPC_CHANNEL_READY:
      return "READY";
    case GRPC_CHANNEL_TRANSIENT_FAILURE:
      return "TRANSIENT_FAILURE";
    case GRPC_CHANNEL_SHUTDOWN:
      return "SHUTDOWN";
  }
  return "UNKNOWN";
}

}  // namespace

std::string FinishReasonText(v1::FinishReason reason) {
  switch (reason) {
    case v1::FINISH_REASON_STOP:
      return "stop";
    case v1::FINISH_REASON_LENGTH:
      return "length";
    case v1::FINISH_REASON_CONTEXT:
      return "context";
    case v1::FINISH_REASON_DEADLINE:
      return "deadline";
    case v1::FINISH_REASON_CANCELLED:
      return "cancelled";
    case v1::FINISH_REASON_ERROR:
      return "error";
    default:
      return "unspecified";
  }
}

Client::Client(std::string address, std::shared_ptr<grpc::Channel> channel, ClientOptions options)
    : address_(std::move(address)),
      options_(options),
      channel_(std::move(channel)),
      inference_(v1::Inference::NewStub(channel_)),
      models_(v1::Models::NewStub(channel_)),
      cluster_(v1::Cluster::NewStub(channel_)) {}

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(const std::string& address,
                                                        const ClientOptions& options) {
  // The server cannot diagnose a missing address: it never hears from us.
  if (address.empty()) return absl::InvalidArgumentError("no server address given (--server)");
  if (options.connect_timeout.count() <= 0) {
    return absl::InvalidArgumentError("the connect timeout must be positive");
  }
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  // Waiting here (rather than failing the first call) lets a client start
  // alongside a server that is still coming up.
  const auto deadline = std::chrono::system_clock::now() + options.connect_timeout;
  if (!channel->WaitForConnected(deadline)) {
    const double seconds = std::chrono::duration<double>(options.connect_timeout).count();
    return absl::UnavailableError(absl::StrCat(
        "cannot reach accllm-server at ", address, " (UNAVAILABLE: not connected within ", seconds,
        " s, channel ", ChannelStateName(channel->GetState(false)), ")"));
  }
  return std::unique_ptr<Client>(new Client(address, std::move(channel), options));
}

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(const std::string& address,
                                                        std::chrono::milliseconds connect_timeout) {
  ClientOptions options;
  options.connect_timeout = connect_timeout;
  return Connect(address, options);
}

std::unique_ptr<grpc::ClientContext> Client::UnaryContext(std::chrono::milliseconds timeout) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + timeout);
  return context;
}

absl::StatusOr<GenerateResult> Client::Generate(const v1::GenerateRequest& request,
                                                const MessageCallback& on_message) {
  grpc::ClientContext context;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) return absl::CancelledError("cancelled");
    active_.insert(&context);
  }
  GenerateResult result;
  bool cancelled_by_callback = false;
  std::unique_ptr<grpc::ClientReader<v1::GenerateResponse>> reader =
      inference_->Generate(&context, request);
  v1::GenerateResponse message;
  while (reader->Read(&message)) {
    result.tokens += message.token_ids_size();
    if (message.finish_reason() != v1::FINISH_REASON_UNSPECIFIED) {
      result.finish_reason = message.finish_reason();
    }
    if (message.has_usage()) result.usage = message.usage();
    if (!on_message(message)) {
      cancelled_by_callback = true;
      context.TryCancel();
      // Drain what is already buffered; Read returns false once the cancel lands.
      while (reader->Read(&message)) {
      }
      break;
    }
  }
  const grpc::Status status = reader->Finish();
  bool cancelled_by_caller;
  {
    std::lock_guard<std::mutex> lock(mu_);
    active_.erase(&context);
    cancelled_by_caller = cancelled_;
  }
  if (cancelled_by_callback) {
    result.finish_reason = v1::FINISH_REASON_CANCELLED;
    return result;
  }
  if (status.ok()) return result;
  // CANCELLED that we did not ask for (e.g. the server shutting down) is the server's error.
  if (cancelled_by_caller && status.error_code() == grpc::StatusCode::CANCELLED) {
    return absl::CancelledError("cancelled");
  }
  return FromGrpcStatus(status, address_);
}

void Client::CancelAll() {
  std::lock_guard<std::mutex> lock(mu_);
  cancelled_ = true;
  for (grpc::ClientContext* context : active_) context->TryCancel();
}

absl::StatusOr<v1::TokenizeResponse> Client::Tokenize(const v1::TokenizeRequest& request) {
  auto context = UnaryContext(options_.rpc_timeout);
  v1::TokenizeResponse response;
  grpc::Status status = inference_->Tokenize(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status, address_);
  return response;
}

absl::StatusOr<std::vector<v1::ModelInfo>> Client::ListModels(bool ready_only) {
  auto context = UnaryContext(options_.rpc_timeout);
  v1::ListModelsRequest request;
  request.set_ready_only(ready_only);
  v1::ListModelsResponse response;
  grpc::Status status = models_->List(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status, address_);
  return std::vector<v1::ModelInfo>(response.models().begin(), response.models().end());
}

absl::StatusOr<v1::ModelInfo> Client::GetModel(const std::string& name) {
  auto context = UnaryContext(options_.rpc_timeout);
  v1::GetModelRequest request;
  request.set_name(name);
  v1::ModelInfo response;
  grpc::Status status = models_->Get(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status, address_);
  return response;
}

absl::StatusOr<v1::ModelInfo> Client::LoadModel(const std::string& name) {
  auto context = UnaryContext(options_.load_timeout);
  v1::LoadModelRequest request;
  request.set_name(name);
  v1::ModelInfo response;
  grpc::Status status = models_->Load(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status, address_);
  return response;
}

absl::StatusOr<v1::ModelInfo> Client::UnloadModel(const std::string& name) {
  auto context = UnaryContext(options_.load_timeout);
  v1::UnloadModelRequest request;
  request.set_name(name);
  v1::ModelInfo response;
  grpc::Status status = models_->Unload(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status, address_);
  return response;
}

absl::StatusOr<std::vector<v1::ModelStatistics>> Client::Statistics(const std::string& name) {
  auto context = UnaryContext(options_.rpc_timeout);
  v1::ModelStatisticsRequest request;
  request.set_name(name);
  v1::ModelStatisticsResponse response;
  grpc::Status status = models_->Statistics(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status, address_);
  return std::vector<v1::ModelStatistics>(response.models().begin(), response.models().end());
}

absl::StatusOr<std::vector<v1::WorkerStatus>> Client::ListWorkers() {
  auto context = UnaryContext(options_.rpc_timeout);
  v1::ListWorkersResponse response;
  grpc::Status status = cluster_->ListWorkers(context.get(), v1::ListWorkersRequest(), &response);
  if (!status.ok()) return FromGrpcStatus(status, address_);
  return std::vector<v1::WorkerStatus>(response.workers().begin(), response.workers().end());
}

absl::StatusOr<v1::WorkerStatus> Client::DrainWorker(const std::string& worker_id) {
  auto context = UnaryContext(options_.rpc_timeout);
  v1::DrainWorkerRequest request;
  request.set_worker_id(worker_id);
  v1::WorkerStatus response;
  grpc::Status status = cluster_->DrainWorker(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status, address_);
  return response;
}

}  // namespace accllm::client
