#include "client/lib/client.h"

#include <utility>

#include "absl/strings/str_cat.h"         // absl::StrCat
#include "client/lib/grpc_status.h"       // FromGrpcStatus
#include "common/tls.h"                   // TlsChannelCredentials
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

absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(const std::string& address,
                                                           const ClientOptions& options) {
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  grpc::ChannelArguments args;
  if (!options.tls_ca.empty()) {
    TlsFiles files;
    files.ca = options.tls_ca;
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> tls = TlsChannelCredentials(files);
    if (!tls.ok()) return tls.status();
    credentials = *std::move(tls);
    if (!options.tls_server_name.empty()) {
      args.SetSslTargetNameOverride(options.tls_server_name);
    }
  }
  return grpc::CreateCustomChannel(address, credentials, args);
}

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(const std::string& address,
                                                        const ClientOptions& options) {
  // The server cannot diagnose a missing address: it never hears from us.
  if (address.empty()) return absl::InvalidArgumentError("no server address given (--server)");
  if (options.connect_timeout.count() <= 0) {
    return absl::InvalidArgumentError("the connect timeout must be positive");
  }
  absl::StatusOr<std::shared_ptr<grpc::Channel>> opened = OpenChannel(address, options);
  if (!opened.ok()) return opened.status();
  std::shared_ptr<grpc::Channel> channel = *std::move(opened);
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
  Prepare(*context);
  return context;
}

void Client::Prepare(grpc::ClientContext& context) const {
  if (!options_.token.empty()) context.AddMetadata("authorization", "Bearer " + options_.token);
}

absl::StatusOr<GenerateResult> Client::Generate(const v1::GenerateRequest& request,
                                                const MessageCallback& on_message) {
  grpc::ClientContext context;
  Prepare(context);
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

namespace {

// One unary call on a fresh context; errors name the server.
template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> Unary(Stub* stub,
                               grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Request&,
                                                         Response*),
                               const Request& request, std::unique_ptr<grpc::ClientContext> context,
                               const std::string& address) {
  Response response;
  grpc::Status status = (stub->*rpc)(context.get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status, address);
  return response;
}

template <typename T>
std::vector<T> ToVector(const google::protobuf::RepeatedPtrField<T>& items) {
  return std::vector<T>(items.begin(), items.end());
}

}  // namespace

absl::StatusOr<v1::TokenizeResponse> Client::Tokenize(const v1::TokenizeRequest& request) {
  return Unary(inference_.get(), &v1::Inference::Stub::Tokenize, request,
               UnaryContext(options_.rpc_timeout), address_);
}

absl::StatusOr<std::vector<v1::ModelInfo>> Client::ListModels(bool ready_only) {
  v1::ListModelsRequest request;
  request.set_ready_only(ready_only);
  absl::StatusOr<v1::ListModelsResponse> response = Unary(
      models_.get(), &v1::Models::Stub::List, request, UnaryContext(options_.rpc_timeout), address_);
  if (!response.ok()) return response.status();
  return ToVector(response->models());
}

absl::StatusOr<v1::ModelInfo> Client::GetModel(const std::string& name) {
  v1::GetModelRequest request;
  request.set_name(name);
  return Unary(models_.get(), &v1::Models::Stub::Get, request, UnaryContext(options_.rpc_timeout),
               address_);
}

absl::StatusOr<v1::ModelInfo> Client::LoadModel(const std::string& name) {
  v1::LoadModelRequest request;
  request.set_name(name);
  return Unary(models_.get(), &v1::Models::Stub::Load, request,
               UnaryContext(options_.load_timeout), address_);
}

absl::StatusOr<v1::ModelInfo> Client::UnloadModel(const std::string& name) {
  v1::UnloadModelRequest request;
  request.set_name(name);
  return Unary(models_.get(), &v1::Models::Stub::Unload, request,
               UnaryContext(options_.load_timeout), address_);
}

absl::StatusOr<std::vector<v1::ModelStatistics>> Client::Statistics(const std::string& name) {
  v1::ModelStatisticsRequest request;
  request.set_name(name);
  absl::StatusOr<v1::ModelStatisticsResponse> response =
      Unary(models_.get(), &v1::Models::Stub::Statistics, request,
            UnaryContext(options_.rpc_timeout), address_);
  if (!response.ok()) return response.status();
  return ToVector(response->models());
}

absl::StatusOr<std::vector<v1::WorkerStatus>> Client::ListWorkers() {
  absl::StatusOr<v1::ListWorkersResponse> response =
      Unary(cluster_.get(), &v1::Cluster::Stub::ListWorkers, v1::ListWorkersRequest(),
            UnaryContext(options_.rpc_timeout), address_);
  if (!response.ok()) return response.status();
  return ToVector(response->workers());
}

absl::StatusOr<v1::WorkerStatus> Client::DrainWorker(const std::string& worker_id) {
  v1::DrainWorkerRequest request;
  request.set_worker_id(worker_id);
  return Unary(cluster_.get(), &v1::Cluster::Stub::DrainWorker, request,
               UnaryContext(options_.rpc_timeout), address_);
}

}  // namespace accllm::client
