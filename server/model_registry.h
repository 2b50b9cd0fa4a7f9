// Which models serve: one explicit lifecycle per model name, in one place.
//
//   AVAILABLE ──Load──▶ LOADING ──ok──▶ READY ──Unload──▶ UNLOADING ──▶ AVAILABLE
//                                                 (until its last request ends)
//                          │                 ╰──Load (reload)──╮
//                          ╰──error──▶ FAILED (reason)         ▼
//                                      READY keeps serving the old version while
//                                      the new one loads; a failed reload leaves
//                                      it READY with the failure as its reason.
//
// Loading goes through an injected Loader (TensorFlow Serving's split: the
// repository says where a model is, the loader builds it and frees what it took
// on failure, the registry decides which version serves). Requests hold a
// shared_ptr to the servable they use, so unloading waits for none of them and
// frees the model when the last request lets go.
#ifndef ACCLLM_SERVER_MODEL_REGISTRY_H_
#define ACCLLM_SERVER_MODEL_REGISTRY_H_

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"    // absl::Status
#include "absl/status/statusor.h"  // absl::StatusOr

namespace accllm {

// Whatever a loaded model is to the server (engine weights, worker handles...).
class Servable {
 public:
  virtual ~Servable() = default;
};

class ModelLoader {
 public:
  virtual ~ModelLoader() = default;
  // Builds a servable from a model directory; on error it must have freed
  // everything it allocated.
  virtual absl::StatusOr<std::shared_ptr<Servable>> Load(const std::string& name,
                                                         const std::filesystem::path& path,
                                                         int64_t version) = 0;
};

enum class ModelState { kAvailable, kLoading, kReady, kUnloading, kFailed };
std::string_view ModelStateName(ModelState state);  // "AVAILABLE", ...

struct ModelStatus {
  std::string name;
  ModelState state = ModelState::kAvailable;
  std::string reason;    // why FAILED, or why the last reload failed
  int64_t version = 0;   // of the serving version; increases with each successful load
  std::filesystem::path path;
};

class ModelRegistry {
 public:
  explicit ModelRegistry(ModelLoader& loader) : loader_(loader) {}

  // Loads `name` from `path` (blocking; other models keep serving meanwhile).
  // FailedPrecondition while the same model is loading or unloading.
  absl::StatusOr<ModelStatus> Load(const std::string& name, const std::filesystem::path& path);
  // Stops serving `name`; NotFound if it is not loaded.
  absl::StatusOr<ModelStatus> Unload(const std::string& name);

  // The serving version for a request. NotFound for an unknown model,
  // FailedPrecondition when it is not READY (with its state and reason).
  absl::StatusOr<std::shared_ptr<Servable>> Acquire(const std::string& name) const;

  absl::StatusOr<ModelStatus> Status(const std::string& name) const;
  std::vector<ModelStatus> List() const;  // sorted by name
  // Makes a repository model known as AVAILABLE (listing without loading).
  void NoteAvailable(const std::string& name, const std::filesystem::path& path);

 private:
  struct Entry {
    ModelStatus status;
    std::shared_ptr<Servable> serving;  // null unless READY (or reloading)
    std::weak_ptr<Servable> unloading;  // UNLOADING until the last request lets go of it
    bool busy = false;                  // a load or unload is running
  };

  // kUnloading turns kAvailable once the unloaded version is freed.
  static ModelStatus Current(const Entry& e);

  ModelLoader& loader_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> models_;
};

}  // namespace accllm

#endif  // ACCLLM_SERVER_MODEL_REGISTRY_H_
