// The control plane: accllm.v1.Models (model management and statistics) and
// accllm.v1.Cluster (worker registration, heartbeats, listing, draining).
// Loads take a while, so they run off gRPC's callback threads.
#ifndef ACCLLM_SERVER_CONTROL_SERVICES_H_
#define ACCLLM_SERVER_CONTROL_SERVICES_H_

#include "accllm/v1/cluster.grpc.pb.h"  // v1::Cluster::CallbackService
#include "accllm/v1/models.grpc.pb.h"   // v1::Models::CallbackService
#include "server/cluster.h"             // Cluster
#include "server/model_manager.h"       // ModelManager

namespace accllm {

class ModelsService final : public v1::Models::CallbackService {
 public:
  explicit ModelsService(ModelManager& models) : models_(models) {}

  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* context,
                                 const v1::ListModelsRequest* request,
                                 v1::ListModelsResponse* response) override;
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* context,
                                const v1::GetModelRequest* request,
                                v1::ModelInfo* response) override;
  grpc::ServerUnaryReactor* Load(grpc::CallbackServerContext* context,
                                 const v1::LoadModelRequest* request,
                                 v1::ModelInfo* response) override;
  grpc::ServerUnaryReactor* Unload(grpc::CallbackServerContext* context,
                                   const v1::UnloadModelRequest* request,
                                   v1::ModelInfo* response) override;
  grpc::ServerUnaryReactor* Statistics(grpc::CallbackServerContext* context,
                                       const v1::ModelStatisticsRequest* request,
                                       v1::ModelStatisticsResponse* response) override;

 private:
  ModelManager& models_;
};

// Which of Cluster's methods a port serves: worker registration and heartbeats
// (the workers' side) and listing and draining (the operators' side). With
// --cluster-listen the two sides live on different ports.
struct ClusterScope {
  bool registration = true;
  bool operations = true;
};

class ClusterService final : public v1::Cluster::CallbackService {
 public:
  explicit ClusterService(Cluster& cluster, ClusterScope scope = {})
      : cluster_(cluster), scope_(scope) {}

  grpc::ServerUnaryReactor* RegisterWorker(grpc::CallbackServerContext* context,
                                           const v1::RegisterWorkerRequest* request,
                                           v1::RegisterWorkerResponse* response) override;
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* context,
                                      const v1::HeartbeatRequest* request,
                                      v1::HeartbeatResponse* response) override;
  grpc::ServerUnaryReactor* ListWorkers(grpc::CallbackServerContext* context,
                                        const v1::ListWorkersRequest* request,
                                        v1::ListWorkersResponse* response) override;
  grpc::ServerUnaryReactor* DrainWorker(grpc::CallbackServerContext* context,
                                        const v1::DrainWorkerRequest* request,
                                        v1::WorkerStatus* response) override;

 private:
  Cluster& cluster_;
  const ClusterScope scope_;
};

}  // namespace accllm

#endif  // ACCLLM_SERVER_CONTROL_SERVICES_H_
