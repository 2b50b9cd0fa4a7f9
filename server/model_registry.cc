#include "server/model_registry.h"

#include "absl/strings/str_cat.h"  // absl::StrCat

namespace accllm {

std::string_view ModelStateName(ModelState state) {
  switch (state) {
    case ModelState::kAvailable: return "AVAILABLE";
    case ModelState::kLoading: return "LOADING";
    case ModelState::kReady: return "READY";
    case ModelState::kUnloading: return "UNLOADING";
    case ModelState::kFailed: return "FAILED";
  }
  return "UNKNOWN";
}

absl::StatusOr<ModelStatus> ModelRegistry::Load(const std::string& name,
                                                const std::filesystem::path& path) {
  int64_t version;
  {
    std::lock_guard<std::mutex> lock(mu_);
    Entry& e = models_[name];
    if (e.busy) {
      return absl::FailedPreconditionError(absl::StrCat(
          "model ", name, " is ", std::string(ModelStateName(e.status.state)), "; try again later"));
    }
    e.busy = true;
    e.status.name = name;
    // A reload keeps the old version READY (it still serves) until the new one is in.
    if (!e.serving) e.status.state = ModelState::kLoading;
    version = e.status.version + 1;
  }
  // Outside the lock: loading takes long and other models keep serving.
  absl::StatusOr<std::shared_ptr<Servable>> loaded = loader_.Load(name, path, version);
  std::shared_ptr<Servable> old;  // released after the lock, when no request holds it
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = models_[name];
  e.busy = false;
  if (!loaded.ok()) {
    e.status.reason = absl::StrCat(e.serving ? "reload failed: " : "", loaded.status().message());
    if (!e.serving) e.status.state = ModelState::kFailed;
    return absl::Status(loaded.status().code(), absl::StrCat("loading model ", name, ": ",
                                                            loaded.status().message()));
  }
  old = std::move(e.serving);
  e.serving = *std::move(loaded);
  e.status.state = ModelState::kReady;
  e.status.reason.clear();
  e.status.version = version;
  e.status.path = path;
  return e.status;
}

absl::StatusOr<ModelStatus> ModelRegistry::Unload(const std::string& name) {
  std::shared_ptr<Servable> dropped;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = models_.find(name);
  if (it == models_.end() || !it->second.serving) {
    return absl::NotFoundError(absl::StrCat("model ", name, " is not loaded"));
  }
  Entry& e = it->second;
  if (e.busy) {
    return absl::FailedPreconditionError(absl::StrCat("model ", name, " is being loaded"));
  }
  // In-flight requests keep their shared_ptr; the model is freed when the last ends.
  e.unloading = e.serving;
  dropped = std::move(e.serving);
  e.status.state = ModelState::kUnloading;
  e.status.reason.clear();
  // Reported as AVAILABLE at once when no request holds it (freed after the lock).
  ModelStatus reported = e.status;
  if (dropped.use_count() == 1) reported.state = ModelState::kAvailable;
  return reported;
}

ModelStatus ModelRegistry::Current(const Entry& e) {
  ModelStatus s = e.status;
  if (s.state == ModelState::kUnloading && e.unloading.expired()) s.state = ModelState::kAvailable;
  return s;
}

absl::StatusOr<std::shared_ptr<Servable>> ModelRegistry::Acquire(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return absl::NotFoundError(absl::StrCat("unknown model ", name));
  const Entry& e = it->second;
  if (!e.serving) {
    return absl::FailedPreconditionError(absl::StrCat(
        "model ", name, " is ", std::string(ModelStateName(Current(e).state)),
        e.status.reason.empty() ? "" : absl::StrCat(": ", e.status.reason)));
  }
  return e.serving;
}

absl::StatusOr<ModelStatus> ModelRegistry::Status(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = models_.find(name);
  if (it == models_.end()) return absl::NotFoundError(absl::StrCat("unknown model ", name));
  return Current(it->second);
}

std::vector<ModelStatus> ModelRegistry::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ModelStatus> out;
  for (const auto& [name, e] : models_) out.push_back(Current(e));
  return out;
}

void ModelRegistry::NoteAvailable(const std::string& name, const std::filesystem::path& path) {
  std::lock_guard<std::mutex> lock(mu_);
  Entry& e = models_[name];
  if (e.status.name.empty()) {
    e.status.name = name;
    e.status.path = path;
  }
}

}  // namespace accllm
