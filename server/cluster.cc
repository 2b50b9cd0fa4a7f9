#include "server/cluster.h"

#include <algorithm>

#include "absl/strings/str_cat.h"         // absl::StrCat
#include "grpcpp/create_channel.h"        // grpc::CreateChannel
#include "grpcpp/security/credentials.h"  // grpc::InsecureChannelCredentials
#include "common/tls.h"                  // IsUnixAddress
#include "server/server_metrics.h"        // ServerMetrics
#include "spdlog/spdlog.h"                // spdlog::info

namespace accllm {

struct Cluster::Record {
  WorkerHandle handle;
  v1::WorkerState state = v1::WORKER_STATE_UP;
  bool is_static = false;
  Clock::time_point last_heartbeat;
  Clock::time_point rate_since;
  int64_t steps_at_rate_since = 0;
  double steps_per_second = 0;
  int32_t pages_used = 0;
  int32_t pages_total = 0;
  int32_t running = 0;
  std::vector<std::string> models;
  std::string backend;
  v1::DeviceCounters device_counters;
};

namespace {
std::shared_ptr<v1::Worker::Stub> StubFor(
    const std::string& address, const std::shared_ptr<grpc::ChannelCredentials>& tls) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(256 << 20);
  args.SetMaxSendMessageSize(256 << 20);
  return v1::Worker::NewStub(
      grpc::CreateCustomChannel(address,
                                tls != nullptr && !IsUnixAddress(address)
                                    ? tls
                                    : grpc::InsecureChannelCredentials(),
                                args));
}
}  // namespace

Cluster::Cluster(ClusterOptions options, ServerMetrics* metrics)
    : options_(std::move(options)), metrics_(metrics), events_(std::make_unique<SerialExecutor>()) {}

Cluster::~Cluster() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  events_.reset();  // runs what is queued
}

void Cluster::Start() { thread_ = std::thread([this] { Loop(); }); }

WorkerHandle Cluster::Upsert(const std::string& address, const std::string& device,
                             const std::string& metrics_address, int32_t pages,
                             int32_t page_tokens, bool is_static,
                             std::vector<WorkerHandle>* replaced) {
  std::unique_ptr<Record>& slot = workers_[address];
  if (slot != nullptr && slot->state != v1::WORKER_STATE_DOWN) replaced->push_back(slot->handle);
  auto r = std::make_unique<Record>();
  r->handle = {.id = address,
               .incarnation = next_incarnation_++,
               .device = device,
               .metrics_address = metrics_address,
               .default_pages = pages,
               .page_tokens = page_tokens,
               .stub = StubFor(address, options_.worker_credentials)};
  r->is_static = is_static;
  r->last_heartbeat = r->rate_since = Clock::now();
  slot = std::move(r);
  cv_.notify_all();
  return slot->handle;
}

// Where the server will dial the worker: HOST:PORT with a port in [1, 65535] (the port
// the worker bound, never 0), or unix:PATH.
static absl::Status CheckWorkerAddress(const std::string& address) {
  if (address.empty()) return absl::InvalidArgumentError("address is empty");
  if (address.rfind("unix:", 0) == 0 && address.size() > 5) return absl::OkStatus();
  const size_t colon = address.rfind(':');
  const std::string port = colon == std::string::npos ? "" : address.substr(colon + 1);
  if (colon == 0 || port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("address \"", address, "\" is not HOST:PORT"));
  }
  if (const int n = std::stoi(port); n < 1 || n > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("address \"", address, "\": port ", n, " is outside [1, 65535]"));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::RegisterWorkerResponse> Cluster::Register(
    const v1::RegisterWorkerRequest& request) {
  if (absl::Status s = CheckWorkerAddress(request.address()); !s.ok()) return s;
  if (request.kv_pages_total() < 0 || request.kv_page_tokens() < 0) {
    return absl::InvalidArgumentError("kv_pages_total and kv_page_tokens must be >= 0");
  }
  std::vector<WorkerHandle> replaced;
  WorkerHandle handle;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return absl::UnavailableError("the server is shutting down");
    handle = Upsert(request.address(), request.device().empty() ? "unknown" : request.device(),
                    request.metrics_address(), request.kv_pages_total(),
                    request.kv_page_tokens(), false, &replaced);
    workers_[handle.id]->backend = request.backend();
  }
  spdlog::info("worker {} registered (device {}, metrics {})", handle.id, handle.device,
               handle.metrics_address.empty() ? "none" : handle.metrics_address);
  for (const WorkerHandle& old : replaced) {
    events_->Post([this, old] {
      if (listener_.on_down) listener_.on_down(old, "the worker registered again (restarted)");
    });
  }
  if (metrics_ != nullptr) metrics_->SetWorkerUp(handle.id, handle.device, true);
  events_->Post([this, handle] {
    if (listener_.on_up) listener_.on_up(handle);
  });
  v1::RegisterWorkerResponse response;
  response.set_worker_id(handle.id);
  response.set_heartbeat_interval_seconds(options_.heartbeat_interval_seconds);
  response.set_lease_seconds(options_.lease_seconds);
  return response;
}

v1::HeartbeatResponse Cluster::Heartbeat(const v1::HeartbeatRequest& request) {
  v1::HeartbeatResponse response;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = workers_.find(request.worker_id());
  if (it == workers_.end() || it->second->state == v1::WORKER_STATE_DOWN) {
    response.set_known(false);
    return response;
  }
  Record& r = *it->second;
  const Clock::time_point now = Clock::now();
  r.last_heartbeat = now;
  if (request.has_device_counters()) r.device_counters = request.device_counters();
  const double dt = std::chrono::duration<double>(now - r.rate_since).count();
  if (dt >= 1.0) {
    r.steps_per_second = (request.steps_total() - r.steps_at_rate_since) / dt;
    r.steps_at_rate_since = request.steps_total();
    r.rate_since = now;
  }
  response.set_known(true);
  return response;
}

absl::StatusOr<v1::WorkerStatus> Cluster::Drain(const std::string& id) {
  WorkerHandle handle;
  v1::WorkerStatus status;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = workers_.find(id);
    if (it == workers_.end()) {
      return absl::NotFoundError(absl::StrCat("no worker \"", id, "\" (see ListWorkers)"));
    }
    Record& r = *it->second;
    if (r.state == v1::WORKER_STATE_DOWN) {
      return absl::FailedPreconditionError(absl::StrCat("worker ", id, " is down"));
    }
    r.state = v1::WORKER_STATE_DRAINING;
    handle = r.handle;
    status = StatusOf(r);
  }
  spdlog::info("worker {} draining: no new sequences go there", id);
  events_->Post([this, handle] {
    if (listener_.on_draining) listener_.on_draining(handle, true);
  });
  return status;
}

void Cluster::MarkDown(const std::string& id, uint64_t incarnation, const std::string& why) {
  WorkerHandle handle;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = workers_.find(id);
    if (it == workers_.end() || it->second->handle.incarnation != incarnation ||
        it->second->state == v1::WORKER_STATE_DOWN) {
      return;
    }
    it->second->state = v1::WORKER_STATE_DOWN;
    handle = it->second->handle;
  }
  spdlog::warn("worker {} is down: {}", id, why);
  if (metrics_ != nullptr) metrics_->SetWorkerUp(handle.id, handle.device, false);
  events_->Post([this, handle, why] {
    if (listener_.on_down) listener_.on_down(handle, why);
  });
}

void Cluster::SetWorkerLoad(const std::string& id, int32_t pages_used, int32_t pages_total,
                            int32_t running, std::vector<std::string> models) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = workers_.find(id);
  if (it == workers_.end()) return;
  it->second->pages_used = pages_used;
  it->second->pages_total = pages_total;
  it->second->running = running;
  it->second->models = std::move(models);
}

v1::WorkerStatus Cluster::StatusOf(const Record& r) const {
  v1::WorkerStatus s;
  s.set_worker_id(r.handle.id);
  s.set_address(r.handle.id);
  s.set_device(r.handle.device);
  s.set_backend(r.backend);
  *s.mutable_device_counters() = r.device_counters;
  s.set_state(r.state);
  s.set_kv_pages_used(r.pages_used);
  s.set_kv_pages_total(r.pages_total);
  s.set_steps_per_second(r.steps_per_second);
  s.set_running_sequences(r.running);
  for (const std::string& m : r.models) s.add_models(m);
  s.set_metrics_address(r.handle.metrics_address);
  s.set_last_heartbeat_age_seconds(
      std::chrono::duration<double>(Clock::now() - r.last_heartbeat).count());
  return s;
}

std::vector<v1::WorkerStatus> Cluster::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<v1::WorkerStatus> out;
  for (const auto& [id, r] : workers_) out.push_back(StatusOf(*r));
  return out;
}

std::vector<WorkerHandle> Cluster::LiveWorkers() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<WorkerHandle> out;
  for (const auto& [id, r] : workers_) {
    if (r->state == v1::WORKER_STATE_UP) out.push_back(r->handle);
  }
  return out;
}

int Cluster::WaitForWorkers(int n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  auto count = [this] {
    return static_cast<int>(std::count_if(workers_.begin(), workers_.end(), [](const auto& kv) {
      return kv.second->state == v1::WORKER_STATE_UP;
    }));
  };
  cv_.wait_for(lock, timeout, [&] { return stopping_ || count() >= n; });
  return count();
}

void Cluster::ProbeStatic(const std::string& address) {
  std::shared_ptr<v1::Worker::Stub> stub;
  bool known = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = workers_.find(address);
    known = it != workers_.end() && it->second->state != v1::WORKER_STATE_DOWN;
    stub = known ? it->second->handle.stub : StubFor(address, options_.worker_credentials);
  }
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  v1::WorkerInfoRequest request;
  v1::WorkerInfoResponse info;
  grpc::Status status = stub->Info(&context, request, &info);
  if (!status.ok()) return;  // the lease decides when a known one is down
  if (known) {
    v1::HeartbeatRequest beat;
    beat.set_worker_id(address);
    beat.set_steps_total(info.steps_total());
    *beat.mutable_device_counters() = info.device_counters();
    Heartbeat(beat);
    return;
  }
  v1::RegisterWorkerRequest registration;
  registration.set_address(address);
  registration.set_device(info.device());
  registration.set_backend(info.backend());
  registration.set_metrics_address(info.metrics_address());
  (void)Register(registration);
}

void Cluster::Loop() {
  const auto tick = std::chrono::duration<double>(
      std::clamp(options_.heartbeat_interval_seconds / 2, 0.05, 0.5));
  auto next_probe = Clock::now();
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::duration_cast<std::chrono::milliseconds>(tick),
                 [this] { return stopping_; });
    if (stopping_) break;
    const Clock::time_point now = Clock::now();
    std::vector<std::pair<std::string, uint64_t>> expired;
    for (const auto& [id, r] : workers_) {
      if (r->state != v1::WORKER_STATE_DOWN &&
          std::chrono::duration<double>(now - r->last_heartbeat).count() > options_.lease_seconds) {
        expired.emplace_back(id, r->handle.incarnation);
      }
    }
    const bool probe = !options_.static_workers.empty() && now >= next_probe;
    lock.unlock();
    for (const auto& [id, incarnation] : expired) {
      MarkDown(id, incarnation, "no heartbeat within the lease");
    }
    if (probe) {
      for (const std::string& address : options_.static_workers) ProbeStatic(address);
      next_probe = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(
                                          options_.heartbeat_interval_seconds));
    }
    lock.lock();
  }
}

}  // namespace accllm
