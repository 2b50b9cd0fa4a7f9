// One loaded version of a model, as the server runs it: the tokenizer and
// limits from its directory, one Scheduler (pure logic) over the workers that
// hold it, and a step loop per worker that sends the scheduler's batches as
// Worker.Step RPCs and feeds the results back. Streams hear about their tokens
// through callbacks; statistics (Triton-style) and metrics are kept here.
//
// Thread-safe. The scheduler is guarded by one mutex; callbacks run under it
// and must not block or call back into this object.
#ifndef ACCLLM_SERVER_SERVED_MODEL_H_
#define ACCLLM_SERVER_SERVED_MODEL_H_

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"        // absl::StatusOr
#include "accllm/v1/models.pb.h"         // v1::ModelStatistics
#include "model/config.h"                // ModelConfig
#include "model/tokenizer/tokenizer.h"   // Tokenizer
#include "scheduler/clock.h"             // SteadyClock
#include "scheduler/scheduler.h"         // Scheduler, RequestParams, Completion
#include "server/cluster.h"              // WorkerHandle
#include "server/model_registry.h"       // Servable
#include "common/serial_executor.h"  // SerialExecutor

namespace accllm {

class ServerMetrics;

struct ServedModelOptions {
  scheduler::SchedulerOptions scheduler;
  int32_t kv_pages_per_worker = 0;    // 0: each worker's default
  double step_timeout_seconds = 600;  // a step RPC slower than this fails the worker
  // Requests waiting while no worker holds the model fail after this long
  // (a restarted worker normally takes them back within a second or two).
  double no_worker_timeout_seconds = 30;
  // Longest prompt a request may send, in tokens (0: the scheduler's own limit).
  int64_t max_prompt_tokens = 0;
};

// How one request spent its time (seconds).
struct RequestTiming {
  double queue = 0;    // arrival → first scheduled
  double ttft = 0;     // arrival → first token
  double prefill = 0;  // first scheduled → first token
  double decode = 0;   // first token → end
  double total = 0;
};

struct StreamCallbacks {
  std::function<void(int32_t token)> on_token;
  std::function<void(const scheduler::Completion&, const RequestTiming&)> on_finished;
};

// Per worker, for ListWorkers and the page gauges.
struct WorkerLoad {
  std::string worker;
  int32_t pages_used = 0;
  int32_t pages_total = 0;
  int32_t running = 0;
};

class ServedModel : public Servable {
 public:
  // Reads the directory's config and tokenizer (checking its tensors); attaches no worker.
  // The last owner to let go (often a gRPC callback thread) does not run the
  // destructor, which joins threads and calls workers: `reaper` does.
  static absl::StatusOr<std::shared_ptr<ServedModel>> Open(const std::string& name,
                                                           const std::filesystem::path& path,
                                                           int64_t version,
                                                           ServedModelOptions options,
                                                           ServerMetrics* metrics,
                                                           Cluster* cluster,
                                                           SerialExecutor* reaper);
  // Stops the step loops and unloads this version from its workers.
  ~ServedModel() override;

  // Loads this version onto the worker (Worker.LoadModel) and schedules on it.
  absl::Status Attach(const WorkerHandle& worker);
  // The worker (that incarnation) is gone: its sequences are recomputed elsewhere.
  void Detach(const WorkerHandle& worker, const std::string& why);
  void SetDraining(const WorkerHandle& worker, bool draining);
  std::vector<std::string> workers() const;  // ids of the workers it runs on

  absl::StatusOr<scheduler::RequestId> Submit(scheduler::RequestParams params,
                                              StreamCallbacks callbacks);
  void Cancel(scheduler::RequestId id);
  // Requests still running or waiting.
  int64_t active_requests() const;

  const std::string& name() const { return name_; }
  int64_t version() const { return version_; }
  const std::filesystem::path& path() const { return path_; }
  const ModelConfig& config() const { return config_; }
  const Tokenizer* tokenizer() const { return tokenizer_.get(); }  // may be null
  const scheduler::ModelLimits& limits() const { return limits_; }
  std::string quantization() const { return quantization_; }

  v1::ModelStatistics Statistics() const;
  // Updates the queue and page gauges; returns the load per worker.
  std::vector<WorkerLoad> RefreshMetrics();
  // Called once from the destructor (the registry marks the model unloaded).
  void set_on_destroyed(std::function<void()> f) { on_destroyed_ = std::move(f); }

 private:
  struct Link;
  struct Tracking;

  ServedModel() = default;
  void StepLoop(Link* link);
  void OnToken(scheduler::RequestId id, int32_t token, const StreamCallbacks& cb);
  void OnFinished(const scheduler::Completion& c, const StreamCallbacks& cb);

  std::string name_;
  int64_t version_ = 0;
  std::filesystem::path path_;
  ModelConfig config_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  scheduler::ModelLimits limits_;
  std::string quantization_;
  ServedModelOptions options_;
  ServerMetrics* metrics_ = nullptr;
  Cluster* cluster_ = nullptr;
  std::function<void()> on_destroyed_;

  scheduler::SteadyClock clock_;
  // One Attach at a time, so two (a load and a worker coming up) never put
  // the model on one worker twice; held across the worker's LoadModel call.
  std::mutex attach_mu_;
  mutable std::mutex mu_;
  std::condition_variable cv_;  // work for the step loops
  std::unique_ptr<scheduler::Scheduler> scheduler_;
  std::vector<std::unique_ptr<Link>> links_;
  std::map<scheduler::RequestId, Tracking> tracking_;
  scheduler::TimePoint submitting_at_{};
  bool stopping_ = false;
  int64_t preemptions_seen_ = 0;
  std::optional<scheduler::TimePoint> no_worker_since_;
  v1::ModelStatistics stats_;
};

}  // namespace accllm

#endif  // ACCLLM_SERVER_SERVED_MODEL_H_
