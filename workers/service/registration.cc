#include "workers/service/registration.h"

#include <algorithm>
#include <chrono>

#include "grpcpp/create_channel.h"               // grpc::CreateChannel
#include "grpcpp/security/credentials.h"         // grpc::InsecureChannelCredentials
#include "spdlog/spdlog.h"                       // spdlog::info

namespace accllm {

Registration::Registration(RegistrationInfo info)
    : info_(std::move(info)),
      stub_(v1::Cluster::NewStub(
          grpc::CreateChannel(info_.scheduler, info_.credentials != nullptr
                                                   ? info_.credentials
                                                   : grpc::InsecureChannelCredentials()))),
      thread_([this] { Loop(); }) {}

Registration::~Registration() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

bool Registration::registered() const {
  std::lock_guard<std::mutex> lock(mu_);
  return registered_;
}

void Registration::Loop() {
  using std::chrono::duration;
  using std::chrono::milliseconds;
  std::string worker_id;
  duration<double> interval(1.0);
  duration<double> backoff(0.1);
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    bool ok = false;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    if (!info_.token.empty()) context.AddMetadata("authorization", "Bearer " + info_.token);
    if (worker_id.empty()) {
      v1::RegisterWorkerResponse response;
      grpc::Status status = stub_->RegisterWorker(&context, info_.request, &response);
      if (status.ok()) {
        worker_id = response.worker_id();
        interval = duration<double>(std::max(0.05, response.heartbeat_interval_seconds()));
        spdlog::info("registered with {} as {} (heartbeat every {:.2f} s)", info_.scheduler,
                     worker_id, interval.count());
        ok = true;
      } else {
        spdlog::warn("cannot register with {}: {} (retrying)", info_.scheduler,
                     status.error_message());
      }
    } else {
      v1::HeartbeatRequest request;
      request.set_worker_id(worker_id);
      if (info_.fill_heartbeat) info_.fill_heartbeat(&request);
      v1::HeartbeatResponse response;
      grpc::Status status = stub_->Heartbeat(&context, request, &response);
      if (status.ok() && response.known()) {
        ok = true;
      } else {
        spdlog::warn("heartbeat to {} {}: registering again", info_.scheduler,
                     status.ok() ? "not recognized" : status.error_message());
        worker_id.clear();
      }
    }
    lock.lock();
    registered_ = !worker_id.empty();
    if (ok) {
      backoff = duration<double>(0.1);
    } else {
      backoff = std::min(backoff * 2, duration<double>(2.0));
    }
    const auto wait = ok ? interval : backoff;
    cv_.wait_for(lock, std::chrono::duration_cast<milliseconds>(wait), [this] { return stopping_; });
  }
}

}  // namespace accllm
