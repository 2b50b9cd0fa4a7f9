// Which model versions serve, on which workers (TensorFlow Serving's split):
// the repository says where models are, ServedModel::Open + Attach is the
// loader (it frees what it took when any step fails), the registry decides
// which version serves. The manager also follows the cluster: a new worker
// gets every READY model, a lost one is detached from all of them.
#ifndef ACCLLM_SERVER_MODEL_MANAGER_H_
#define ACCLLM_SERVER_MODEL_MANAGER_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"        // absl::StatusOr
#include "accllm/v1/models.pb.h"         // v1::ModelInfo, v1::ModelStatistics
#include "server/cluster.h"              // Cluster, WorkerHandle
#include "server/model_registry.h"       // ModelRegistry, ModelLoader
#include "server/model_repository.h"     // ModelRepository
#include "server/served_model.h"         // ServedModel, ServedModelOptions

namespace accllm {

class ServerMetrics;

class ModelManager : private ModelLoader {
 public:
  ModelManager(ModelRepository repository, ServedModelOptions options, Cluster& cluster,
               ServerMetrics* metrics);
  ~ModelManager() override;

  // Subscribes to the cluster and starts refreshing gauges.
  void Start();
  // Called (outside locks) whenever the set of READY models may have changed.
  void set_on_ready_changed(std::function<void(bool any_ready)> f) { on_ready_changed_ = std::move(f); }

  absl::StatusOr<v1::ModelInfo> Load(const std::string& name);
  absl::StatusOr<v1::ModelInfo> Unload(const std::string& name);
  absl::StatusOr<v1::ModelInfo> Get(const std::string& name) const;
  std::vector<v1::ModelInfo> List(bool ready_only) const;
  absl::StatusOr<std::vector<v1::ModelStatistics>> Statistics(const std::string& name) const;

  // The serving version; an empty name means the default model (the one
  // --default-model names, else the only READY one).
  absl::StatusOr<std::shared_ptr<ServedModel>> Acquire(const std::string& name) const;
  void set_default_model(std::string name) { default_model_ = std::move(name); }
  // Makes every repository model known (AVAILABLE) without loading.
  absl::Status Scan();
  bool AnyReady() const;
  // Drops every model (shutdown).
  void UnloadAll();

 private:
  absl::StatusOr<std::shared_ptr<Servable>> Load(const std::string& name,
                                                 const std::filesystem::path& path,
                                                 int64_t version) override;
  std::vector<std::shared_ptr<ServedModel>> Served() const;
  v1::ModelInfo Info(const ModelStatus& status) const;
  void OnWorkerUp(const WorkerHandle& worker);
  // Puts the serving version of `name` on every live worker that lacks it.
  void CatchUp(const std::string& name);
  void OnWorkerDown(const WorkerHandle& worker, const std::string& why);
  void OnWorkerDraining(const WorkerHandle& worker, bool draining);
  void RefreshLoop();
  void NotifyReady();

  // Destroys model versions off gRPC's threads; declared first, so destroyed
  // last: every version is gone before the manager is.
  std::unique_ptr<SerialExecutor> reaper_ = std::make_unique<SerialExecutor>();
  ModelRepository repository_;
  ServedModelOptions options_;
  Cluster& cluster_;
  ServerMetrics* metrics_;
  ModelRegistry registry_;
  std::string default_model_;
  std::function<void(bool)> on_ready_changed_;

  mutable std::mutex mu_;
  std::vector<std::weak_ptr<ServedModel>> served_;  // every version alive, serving or draining
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread refresher_;
};

}  // namespace accllm

#endif  // ACCLLM_SERVER_MODEL_MANAGER_H_
