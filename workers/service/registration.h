// A worker started with --scheduler=HOST:PORT registers itself with
// accllm-server's Cluster service and then sends heartbeats. When the server
// forgets it (restart, missed lease) or cannot be reached, it registers again
// with backoff, so starting order does not matter.
#ifndef ACCLLM_WORKERS_SERVICE_REGISTRATION_H_
#define ACCLLM_WORKERS_SERVICE_REGISTRATION_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "accllm/v1/cluster.grpc.pb.h"  // v1::Cluster::Stub

namespace grpc {
class ChannelCredentials;
}  // namespace grpc

namespace accllm {

struct RegistrationInfo {
  std::string scheduler;  // HOST:PORT of accllm-server (or its unix: socket)
  // The worker's certificate and the cluster CA (mutual TLS); null: plaintext.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // Sent as "authorization: Bearer TOKEN" when the server asks role tokens on
  // the port workers register on (no --cluster-listen); empty: none.
  std::string token;
  v1::RegisterWorkerRequest request;
  // Current load, sent with each heartbeat.
  std::function<void(v1::HeartbeatRequest*)> fill_heartbeat;
};

class Registration {
 public:
  explicit Registration(RegistrationInfo info);
  ~Registration();  // stops heartbeats

  bool registered() const;

 private:
  void Loop();

  RegistrationInfo info_;
  std::unique_ptr<v1::Cluster::Stub> stub_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool registered_ = false;
  std::thread thread_;
};

}  // namespace accllm

#endif  // ACCLLM_WORKERS_SERVICE_REGISTRATION_H_
