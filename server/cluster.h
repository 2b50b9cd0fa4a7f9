// The worker registry (accllm.v1.Cluster's state): which accllm-worker
// processes exist, where, on what device, and whether they are alive.
// Workers register themselves (or are probed at static addresses), send
// heartbeats, and are declared DOWN when a lease passes without one or a step
// to them fails. Every change is reported to one listener (the model manager),
// which loads models onto new workers and recomputes the sequences of lost ones.
#ifndef ACCLLM_SERVER_CLUSTER_H_
#define ACCLLM_SERVER_CLUSTER_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"         // absl::StatusOr
#include "accllm/v1/cluster.pb.h"         // v1::WorkerStatus, ...
#include "accllm/v1/worker.grpc.pb.h"     // v1::Worker::Stub
#include "common/serial_executor.h"  // SerialExecutor

namespace grpc {
class ChannelCredentials;
}  // namespace grpc

namespace accllm {

class ServerMetrics;

// One registration of a worker. A worker that dies and comes back (same
// address) is a new incarnation: sequences never cross incarnations.
struct WorkerHandle {
  std::string id;  // = its address
  uint64_t incarnation = 0;
  std::string device;
  std::string metrics_address;
  int32_t default_pages = 0;
  int32_t page_tokens = 0;
  std::shared_ptr<v1::Worker::Stub> stub;
};

struct ClusterOptions {
  double heartbeat_interval_seconds = 1.0;
  double lease_seconds = 5.0;
  std::vector<std::string> static_workers;  // addresses probed with Worker.Info
  // How the server dials workers over TCP (mutual TLS with --cluster-tls-ca);
  // null: plaintext. Unix-socket workers (the local one) are always plaintext:
  // the socket's directory permissions guard them.
  std::shared_ptr<grpc::ChannelCredentials> worker_credentials;
};

class Cluster {
 public:
  struct Listener {
    std::function<void(const WorkerHandle&)> on_up;
    std::function<void(const WorkerHandle&, const std::string& why)> on_down;
    std::function<void(const WorkerHandle&, bool draining)> on_draining;
  };

  Cluster(ClusterOptions options, ServerMetrics* metrics);
  ~Cluster();  // stops the lease checker and the static-worker prober

  // Must be set before Start; called without Cluster's lock held, in order.
  void SetListener(Listener listener) { listener_ = std::move(listener); }
  void Start();

  absl::StatusOr<v1::RegisterWorkerResponse> Register(const v1::RegisterWorkerRequest& request);
  v1::HeartbeatResponse Heartbeat(const v1::HeartbeatRequest& request);
  absl::StatusOr<v1::WorkerStatus> Drain(const std::string& id);
  // A step to this incarnation failed: it is DOWN (no-op if already replaced).
  void MarkDown(const std::string& id, uint64_t incarnation, const std::string& why);

  std::vector<v1::WorkerStatus> List() const;
  std::vector<WorkerHandle> LiveWorkers() const;  // UP (not draining, not down)
  // Blocks until at least `n` workers are UP or `timeout` passes; returns how many are.
  int WaitForWorkers(int n, std::chrono::milliseconds timeout) const;

  // Per-model facts reported by the model manager for ListWorkers.
  void SetWorkerLoad(const std::string& id, int32_t pages_used, int32_t pages_total,
                     int32_t running, std::vector<std::string> models);

 private:
  struct Record;
  using Clock = std::chrono::steady_clock;

  void Loop();  // leases and static probes
  void ProbeStatic(const std::string& address);
  // Adds (or replaces) a record; returns the handle to announce.
  WorkerHandle Upsert(const std::string& address, const std::string& device,
                      const std::string& metrics_address, int32_t pages, int32_t page_tokens,
                      bool is_static, std::vector<WorkerHandle>* replaced);
  v1::WorkerStatus StatusOf(const Record& r) const;

  ClusterOptions options_;
  ServerMetrics* metrics_;
  Listener listener_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::map<std::string, std::unique_ptr<Record>> workers_;
  uint64_t next_incarnation_ = 1;
  bool stopping_ = false;
  std::thread thread_;
  // Listener calls run here, one at a time, in order, never inside an RPC
  // handler (loading a model onto a new worker can take a while).
  std::unique_ptr<SerialExecutor> events_;
};

}  // namespace accllm

#endif  // ACCLLM_SERVER_CLUSTER_H_
