// accllm.v1.Worker over gRPC's callback API: the scheduler's steps and model
// loads for this worker's ModelHost. Steps and loads run on their own threads
// (a step never waits for a load of another model).
#ifndef ACCLLM_WORKERS_SERVICE_WORKER_SERVICE_H_
#define ACCLLM_WORKERS_SERVICE_WORKER_SERVICE_H_

#include <atomic>
#include <string>

#include "accllm/v1/worker.grpc.pb.h"           // v1::Worker::CallbackService
#include "workers/service/model_host.h"         // ModelHost
#include "common/serial_executor.h"    // SerialExecutor

namespace accllm {

class WorkerMetrics;

struct WorkerIdentity {
  std::string device;           // "cpu", "fpga:0"
  std::string backend;          // "cpu/AVX3"
  std::string metrics_address;  // empty if none
};

class WorkerService final : public v1::Worker::CallbackService {
 public:
  // `metrics` may be null (and set later, once the port is known).
  WorkerService(ModelHost& host, WorkerIdentity identity, WorkerMetrics* metrics);
  void set_metrics(WorkerMetrics* metrics) { metrics_.store(metrics); }

  grpc::ServerUnaryReactor* LoadModel(grpc::CallbackServerContext* context,
                                      const v1::WorkerLoadModelRequest* request,
                                      v1::WorkerLoadModelResponse* response) override;
  grpc::ServerUnaryReactor* UnloadModel(grpc::CallbackServerContext* context,
                                        const v1::WorkerUnloadModelRequest* request,
                                        v1::WorkerUnloadModelResponse* response) override;
  grpc::ServerUnaryReactor* Step(grpc::CallbackServerContext* context,
                                 const v1::StepRequest* request,
                                 v1::StepResponse* response) override;
  grpc::ServerUnaryReactor* Info(grpc::CallbackServerContext* context,
                                 const v1::WorkerInfoRequest* request,
                                 v1::WorkerInfoResponse* response) override;

 private:
  void UpdatePageGauges();

  ModelHost& host_;
  WorkerIdentity identity_;
  std::atomic<WorkerMetrics*> metrics_;
  // Declared last: destroyed first, finishing queued work while the rest lives.
  SerialExecutor loads_;
  SerialExecutor steps_;
};

}  // namespace accllm

#endif  // ACCLLM_WORKERS_SERVICE_WORKER_SERVICE_H_
