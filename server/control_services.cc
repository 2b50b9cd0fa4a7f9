#include "server/control_services.h"

#include <thread>

#include "absl/strings/str_cat.h"  // absl::StrCat
#include "proto/grpc_status.h"      // ToGrpcStatus

namespace accllm {

namespace {

grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* context, const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// Runs `work` on its own thread (a model load can take minutes) and finishes the call.
template <typename Work>
grpc::ServerUnaryReactor* Detached(grpc::CallbackServerContext* context, Work work) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::thread([reactor, work = std::move(work)]() mutable {
    reactor->Finish(ToGrpcStatus(work()));
  }).detach();
  return reactor;
}

absl::Status RequireName(const std::string& name) {
  if (name.empty()) return absl::InvalidArgumentError("name is empty");
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* ModelsService::List(grpc::CallbackServerContext* context,
                                              const v1::ListModelsRequest* request,
                                              v1::ListModelsResponse* response) {
  for (v1::ModelInfo& info : models_.List(request->ready_only())) {
    *response->add_models() = std::move(info);
  }
  return Done(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* ModelsService::Get(grpc::CallbackServerContext* context,
                                             const v1::GetModelRequest* request,
                                             v1::ModelInfo* response) {
  absl::StatusOr<v1::ModelInfo> info = models_.Get(request->name());
  if (info.ok()) *response = *std::move(info);
  return Done(context, info.status());
}

grpc::ServerUnaryReactor* ModelsService::Load(grpc::CallbackServerContext* context,
                                              const v1::LoadModelRequest* request,
                                              v1::ModelInfo* response) {
  if (absl::Status s = RequireName(request->name()); !s.ok()) return Done(context, s);
  return Detached(context, [this, request, response]() -> absl::Status {
    absl::StatusOr<v1::ModelInfo> info = models_.Load(request->name());
    if (info.ok()) *response = *std::move(info);
    return info.status();
  });
}

grpc::ServerUnaryReactor* ModelsService::Unload(grpc::CallbackServerContext* context,
                                                const v1::UnloadModelRequest* request,
                                                v1::ModelInfo* response) {
  if (absl::Status s = RequireName(request->name()); !s.ok()) return Done(context, s);
  return Detached(context, [this, request, response]() -> absl::Status {
    absl::StatusOr<v1::ModelInfo> info = models_.Unload(request->name());
    if (info.ok()) *response = *std::move(info);
    return info.status();
  });
}

grpc::ServerUnaryReactor* ModelsService::Statistics(grpc::CallbackServerContext* context,
                                                    const v1::ModelStatisticsRequest* request,
                                                    v1::ModelStatisticsResponse* response) {
  absl::StatusOr<std::vector<v1::ModelStatistics>> stats = models_.Statistics(request->name());
  if (stats.ok()) {
    for (v1::ModelStatistics& s : *stats) *response->add_models() = std::move(s);
  }
  return Done(context, stats.status());
}

namespace {
absl::Status NotServedHere(const char* method) {
  return absl::UnimplementedError(absl::StrCat(
      "Cluster.", method, " is not served on this port (workers register on --cluster-listen; "
      "operators list and drain workers on the public port)"));
}
}  // namespace

grpc::ServerUnaryReactor* ClusterService::RegisterWorker(grpc::CallbackServerContext* context,
                                                         const v1::RegisterWorkerRequest* request,
                                                         v1::RegisterWorkerResponse* response) {
  if (!scope_.registration) return Done(context, NotServedHere("RegisterWorker"));
  absl::StatusOr<v1::RegisterWorkerResponse> registered = cluster_.Register(*request);
  if (registered.ok()) *response = *std::move(registered);
  return Done(context, registered.status());
}

grpc::ServerUnaryReactor* ClusterService::Heartbeat(grpc::CallbackServerContext* context,
                                                    const v1::HeartbeatRequest* request,
                                                    v1::HeartbeatResponse* response) {
  if (!scope_.registration) return Done(context, NotServedHere("Heartbeat"));
  if (request->worker_id().empty()) {
    return Done(context, absl::InvalidArgumentError("worker_id is empty"));
  }
  *response = cluster_.Heartbeat(*request);
  return Done(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* ClusterService::ListWorkers(grpc::CallbackServerContext* context,
                                                      const v1::ListWorkersRequest*,
                                                      v1::ListWorkersResponse* response) {
  if (!scope_.operations) return Done(context, NotServedHere("ListWorkers"));
  for (v1::WorkerStatus& s : cluster_.List()) *response->add_workers() = std::move(s);
  return Done(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* ClusterService::DrainWorker(grpc::CallbackServerContext* context,
                                                      const v1::DrainWorkerRequest* request,
                                                      v1::WorkerStatus* response) {
  if (!scope_.operations) return Done(context, NotServedHere("DrainWorker"));
  if (request->worker_id().empty()) {
    return Done(context, absl::InvalidArgumentError("worker_id is empty"));
  }
  absl::StatusOr<v1::WorkerStatus> status = cluster_.Drain(request->worker_id());
  if (status.ok()) *response = *std::move(status);
  return Done(context, status.status());
}

}  // namespace accllm
