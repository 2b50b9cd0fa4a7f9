#include "workers/service/worker_service.h"

#include <utility>

#include "proto/grpc_status.h"     // ToGrpcStatus
#include "workers/service/worker_metrics.h"  // WorkerMetrics

namespace accllm {

WorkerService::WorkerService(ModelHost& host, WorkerIdentity identity, WorkerMetrics* metrics)
    : host_(host), identity_(std::move(identity)), metrics_(metrics) {}

void WorkerService::UpdatePageGauges() {
  if (WorkerMetrics* m = metrics_.load()) m->SetPages(host_.PagesUsed(), host_.PagesTotal());
}

grpc::ServerUnaryReactor* WorkerService::LoadModel(grpc::CallbackServerContext* context,
                                                   const v1::WorkerLoadModelRequest* request,
                                                   v1::WorkerLoadModelResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  loads_.Post([this, reactor, request, response] {
    absl::StatusOr<v1::WorkerLoadModelResponse> loaded = host_.Load(*request);
    if (loaded.ok()) *response = *std::move(loaded);
    UpdatePageGauges();
    reactor->Finish(ToGrpcStatus(loaded.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* WorkerService::UnloadModel(grpc::CallbackServerContext* context,
                                                     const v1::WorkerUnloadModelRequest* request,
                                                     v1::WorkerUnloadModelResponse*) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  loads_.Post([this, reactor, request] {
    absl::Status status = host_.Unload(*request);
    UpdatePageGauges();
    reactor->Finish(ToGrpcStatus(status));
  });
  return reactor;
}

grpc::ServerUnaryReactor* WorkerService::Step(grpc::CallbackServerContext* context,
                                              const v1::StepRequest* request,
                                              v1::StepResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  steps_.Post([this, reactor, request, response] {
    StepStats stats;
    absl::StatusOr<v1::StepResponse> done = host_.Step(*request, &stats);
    WorkerMetrics* metrics = metrics_.load();
    if (done.ok()) {
      *response = *std::move(done);
      if (metrics != nullptr) metrics->ObserveStep(stats);
    } else if (metrics != nullptr) {
      metrics->CountFailedStep();
    }
    UpdatePageGauges();
    reactor->Finish(ToGrpcStatus(done.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* WorkerService::Info(grpc::CallbackServerContext* context,
                                              const v1::WorkerInfoRequest*,
                                              v1::WorkerInfoResponse* response) {
  response->set_device(identity_.device);
  response->set_backend(identity_.backend);
  for (const std::string& m : host_.Models()) response->add_models(m);
  response->set_kv_pages_total(host_.PagesTotal());
  response->set_kv_pages_used(host_.PagesUsed());
  response->set_steps_total(host_.StepsTotal());
  response->set_metrics_address(identity_.metrics_address);
  CountersToProto(host_.Counters(), response->mutable_device_counters());
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace accllm
