#include "server/model_manager.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "absl/strings/str_cat.h"  // absl::StrCat
#include "server/server_metrics.h"  // ServerMetrics::SetModelState
#include "spdlog/spdlog.h"         // spdlog::info

namespace accllm {

namespace {

v1::ModelState ToProto(ModelState state) {
  switch (state) {
    case ModelState::kAvailable: return v1::MODEL_STATE_AVAILABLE;
    case ModelState::kLoading: return v1::MODEL_STATE_LOADING;
    case ModelState::kReady: return v1::MODEL_STATE_READY;
    case ModelState::kUnloading: return v1::MODEL_STATE_UNLOADING;
    case ModelState::kFailed: return v1::MODEL_STATE_FAILED;
  }
  return v1::MODEL_STATE_UNSPECIFIED;
}

}  // namespace

ModelManager::ModelManager(ModelRepository repository, ServedModelOptions options,
                           Cluster& cluster, ServerMetrics* metrics)
    : repository_(std::move(repository)),
      options_(options),
      cluster_(cluster),
      metrics_(metrics),
      registry_(*this) {}

ModelManager::~ModelManager() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (refresher_.joinable()) refresher_.join();
  UnloadAll();
  reaper_.reset();  // waits for every version dropped so far to be destroyed
}

void ModelManager::Start() {
  cluster_.SetListener({
      .on_up = [this](const WorkerHandle& w) { OnWorkerUp(w); },
      .on_down = [this](const WorkerHandle& w, const std::string& why) { OnWorkerDown(w, why); },
      .on_draining = [this](const WorkerHandle& w, bool d) { OnWorkerDraining(w, d); },
  });
  refresher_ = std::thread([this] { RefreshLoop(); });
}

absl::Status ModelManager::Scan() {
  absl::StatusOr<std::vector<std::string>> names = repository_.List();
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    absl::StatusOr<std::filesystem::path> path = repository_.PathOf(name);
    if (path.ok()) registry_.NoteAvailable(name, *path);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Servable>> ModelManager::Load(const std::string& name,
                                                             const std::filesystem::path& path,
                                                             int64_t version) {
  absl::StatusOr<std::shared_ptr<ServedModel>> model =
      ServedModel::Open(name, path, version, options_, metrics_, &cluster_, reaper_.get());
  if (!model.ok()) return model.status();
  std::vector<WorkerHandle> workers = cluster_.LiveWorkers();
  if (workers.empty()) {
    return absl::UnavailableError("no worker is registered to load it on");
  }
  // All or nothing: a model that fails on one worker is unloaded from the
  // others (the ServedModel's destructor does it) and the old version stays.
  // A worker that cannot be reached (killed, host gone: gRPC UNAVAILABLE; the
  // worker itself never answers so) says nothing about the model: it is marked
  // DOWN, as after a failed step, and gets the model when it comes back.
  int attached_to = 0;
  std::string unreachable;
  for (const WorkerHandle& w : workers) {
    absl::Status attached = (*model)->Attach(w);
    if (attached.ok()) {
      ++attached_to;
    } else if (absl::IsUnavailable(attached)) {
      cluster_.MarkDown(w.id, w.incarnation,
                        absl::StrCat("unreachable while loading model ", name, ": ",
                                     attached.message()));
      unreachable = std::string(attached.message());
    } else {
      return attached;
    }
  }
  if (attached_to == 0) {
    return absl::UnavailableError(
        absl::StrCat("no worker could be reached to load it on (", unreachable, ")"));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    served_.push_back(*model);
  }
  spdlog::info("model {} version {} is READY on {} worker(s)", name, version, workers.size());
  return std::shared_ptr<Servable>(*std::move(model));
}

absl::StatusOr<v1::ModelInfo> ModelManager::Load(const std::string& name) {
  absl::StatusOr<std::filesystem::path> path = repository_.PathOf(name);
  if (!path.ok()) return path.status();
  absl::StatusOr<ModelStatus> status = registry_.Load(name, *path);
  if (status.ok()) CatchUp(name);
  NotifyReady();
  if (!status.ok()) return status.status();
  return Info(*status);
}

void ModelManager::CatchUp(const std::string& name) {
  // A worker that came up while the new version was loading got the version
  // serving then (the old one): give it the new one too (a no-op on the others).
  absl::StatusOr<std::shared_ptr<Servable>> servable = registry_.Acquire(name);
  if (!servable.ok()) return;
  auto model = std::static_pointer_cast<ServedModel>(*servable);
  for (const WorkerHandle& w : cluster_.LiveWorkers()) {
    absl::Status attached = model->Attach(w);
    if (!attached.ok()) {
      spdlog::error("loading {} onto worker {}: {}", name, w.id, attached.ToString());
    }
  }
}

absl::StatusOr<v1::ModelInfo> ModelManager::Unload(const std::string& name) {
  absl::StatusOr<ModelStatus> status = registry_.Unload(name);
  NotifyReady();
  if (!status.ok()) return status.status();
  return Info(*status);
}

absl::StatusOr<v1::ModelInfo> ModelManager::Get(const std::string& name) const {
  if (name.empty()) return absl::InvalidArgumentError("name is empty");
  absl::StatusOr<ModelStatus> status = registry_.Status(name);
  if (!status.ok()) {
    // Not seen yet: maybe it appeared in the repository since the last scan.
    absl::StatusOr<std::filesystem::path> path = repository_.PathOf(name);
    if (!path.ok()) return path.status();
    ModelStatus available{.name = name, .state = ModelState::kAvailable, .reason = "",
                          .version = 0, .path = *path};
    return Info(available);
  }
  return Info(*status);
}

std::vector<v1::ModelInfo> ModelManager::List(bool ready_only) const {
  std::vector<v1::ModelInfo> out;
  for (const ModelStatus& s : registry_.List()) {
    if (ready_only && s.state != ModelState::kReady) continue;
    out.push_back(Info(s));
  }
  return out;
}

v1::ModelInfo ModelManager::Info(const ModelStatus& status) const {
  v1::ModelInfo info;
  info.set_name(status.name);
  info.set_state(ToProto(status.state));
  info.set_reason(status.reason);
  info.set_version(status.version);
  info.set_path(status.path.string());
  absl::StatusOr<std::shared_ptr<Servable>> servable = registry_.Acquire(status.name);
  if (servable.ok()) {
    auto model = std::static_pointer_cast<ServedModel>(*servable);
    const ModelConfig& c = model->config();
    info.set_layers(c.n_layers);
    info.set_hidden_size(c.dim);
    info.set_vocab_size(c.vocab_size);
    info.set_max_context(c.max_seq_len);
    info.set_quantization(model->quantization());
    info.set_default_sinks(model->limits().default_attention.sinks);
    info.set_default_window(model->limits().default_attention.window);
    for (const std::string& w : model->workers()) info.add_workers(w);
  }
  return info;
}

absl::StatusOr<std::vector<v1::ModelStatistics>> ModelManager::Statistics(
    const std::string& name) const {
  std::vector<v1::ModelStatistics> out;
  if (!name.empty()) {
    absl::StatusOr<std::shared_ptr<Servable>> servable = registry_.Acquire(name);
    if (!servable.ok()) return servable.status();
    out.push_back(std::static_pointer_cast<ServedModel>(*servable)->Statistics());
    return out;
  }
  for (const ModelStatus& s : registry_.List()) {
    absl::StatusOr<std::shared_ptr<Servable>> servable = registry_.Acquire(s.name);
    if (servable.ok()) out.push_back(std::static_pointer_cast<ServedModel>(*servable)->Statistics());
  }
  return out;
}

absl::StatusOr<std::shared_ptr<ServedModel>> ModelManager::Acquire(const std::string& name) const {
  std::string wanted = name.empty() ? default_model_ : name;
  if (wanted.empty()) {
    std::vector<std::string> ready;
    for (const ModelStatus& s : registry_.List()) {
      if (s.state == ModelState::kReady) ready.push_back(s.name);
    }
    if (ready.size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "model: no model named and ", ready.size(),
          " are ready, so there is no default; name one (see Models.List)"));
    }
    wanted = ready.front();
  }
  absl::StatusOr<std::shared_ptr<Servable>> servable = registry_.Acquire(wanted);
  if (!servable.ok()) {
    if (servable.status().code() == absl::StatusCode::kNotFound) {
      return absl::NotFoundError(absl::StrCat("unknown model \"", wanted, "\" (see Models.List)"));
    }
    return servable.status();
  }
  return std::static_pointer_cast<ServedModel>(*servable);
}

bool ModelManager::AnyReady() const {
  for (const ModelStatus& s : registry_.List()) {
    if (s.state == ModelState::kReady) return true;
  }
  return false;
}

void ModelManager::UnloadAll() {
  for (const ModelStatus& s : registry_.List()) {
    if (s.state == ModelState::kReady) (void)registry_.Unload(s.name);
  }
  NotifyReady();
}

void ModelManager::NotifyReady() {
  if (on_ready_changed_) on_ready_changed_(AnyReady());
}

std::vector<std::shared_ptr<ServedModel>> ModelManager::Served() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<ServedModel>> out;
  for (const std::weak_ptr<ServedModel>& w : served_) {
    if (std::shared_ptr<ServedModel> m = w.lock()) out.push_back(std::move(m));
  }
  return out;
}

void ModelManager::OnWorkerUp(const WorkerHandle& worker) {
  // Only the serving versions go onto a new worker; older ones are finishing.
  for (const ModelStatus& s : registry_.List()) {
    if (s.state != ModelState::kReady) continue;
    absl::StatusOr<std::shared_ptr<Servable>> servable = registry_.Acquire(s.name);
    if (!servable.ok()) continue;
    auto model = std::static_pointer_cast<ServedModel>(*servable);
    absl::Status attached = model->Attach(worker);
    if (!attached.ok()) {
      spdlog::error("loading {} onto new worker {}: {}", s.name, worker.id, attached.ToString());
    }
  }
}

void ModelManager::OnWorkerDown(const WorkerHandle& worker, const std::string& why) {
  for (const std::shared_ptr<ServedModel>& m : Served()) m->Detach(worker, why);
}

void ModelManager::OnWorkerDraining(const WorkerHandle& worker, bool draining) {
  for (const std::shared_ptr<ServedModel>& m : Served()) m->SetDraining(worker, draining);
}

void ModelManager::RefreshLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(250), [this] { return stopping_; });
    if (stopping_) break;
    served_.erase(std::remove_if(served_.begin(), served_.end(),
                                 [](const std::weak_ptr<ServedModel>& w) { return w.expired(); }),
                  served_.end());
    lock.unlock();
    struct Sum {
      int32_t used = 0, total = 0, running = 0;
      std::vector<std::string> models;
    };
    std::map<std::string, Sum> per_worker;
    for (const std::shared_ptr<ServedModel>& m : Served()) {
      for (const WorkerLoad& w : m->RefreshMetrics()) {
        Sum& s = per_worker[w.worker];
        s.used += w.pages_used;
        s.total += w.pages_total;
        s.running += w.running;
        s.models.push_back(absl::StrCat(m->name(), "@", m->version()));
      }
    }
    for (auto& [worker, s] : per_worker) {
      cluster_.SetWorkerLoad(worker, s.used, s.total, s.running, std::move(s.models));
    }
    if (metrics_ != nullptr) {
      for (const ModelStatus& status : registry_.List()) {
        metrics_->SetModelState(status.name, std::string(ModelStateName(status.state)));
      }
    }
    lock.lock();
  }
}

}  // namespace accllm
