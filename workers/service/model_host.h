// The models one worker holds, by (name, version), each loaded on the worker's backend with
// its own KV page pool. Steps run one at a time (the worker owns one backend);
// loading a model does not stop steps of the others. A failed load frees
// everything it allocated before returning.
#ifndef ACCLLM_WORKERS_SERVICE_MODEL_HOST_H_
#define ACCLLM_WORKERS_SERVICE_MODEL_HOST_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"  // absl::StatusOr
#include "accllm/v1/worker.pb.h"   // v1::Worker* messages
#include "workers/backend/backend.h"  // Backend, DeviceCounters

namespace accllm {

class Backend;
class BackendWorker;

struct ModelHostOptions {
  int32_t kv_pages = 2048;     // pool size per model unless LoadModel asks otherwise
  int32_t page_tokens = 16;    // P
  int threads = 0;             // kernel threads (0: all cores)
  int32_t max_kv_pages = 1 << 20;
};

// What one step did, for metrics.
struct StepStats {
  int64_t tokens = 0;
  int32_t chunks = 0;
  int32_t pages_touched = 0;
  int32_t page_copies = 0;  // copy-on-write copies of shared prefix pages
  double seconds = 0;
  DeviceCounters device;  // what the device counted during the step
};

// The wire form of a device's counters (Worker.Info, Cluster.Heartbeat).
void CountersToProto(const DeviceCounters& c, v1::DeviceCounters* out);

class ModelHost {
 public:
  // Models load onto `backend` (the device the worker owns).
  ModelHost(ModelHostOptions options, std::shared_ptr<Backend> backend);
  ~ModelHost();

  absl::StatusOr<v1::WorkerLoadModelResponse> Load(const v1::WorkerLoadModelRequest& request);
  // NotFound when nothing matches.
  absl::Status Unload(const v1::WorkerUnloadModelRequest& request);
  absl::StatusOr<v1::StepResponse> Step(const v1::StepRequest& request, StepStats* stats);

  std::vector<std::string> Models() const;  // "name@version", sorted
  int32_t PagesTotal() const;
  int32_t PagesUsed() const;  // distinct pages the last step of each model touched
  int64_t StepsTotal() const;
  // The device's counters summed over the loaded models.
  DeviceCounters Counters() const;

 private:
  struct Hosted;
  using Key = std::pair<std::string, int64_t>;

  std::shared_ptr<Hosted> Find(const std::string& name, int64_t version) const;

  ModelHostOptions options_;
  std::shared_ptr<Backend> backend_;
  mutable std::mutex mu_;  // guards models_ and counters
  std::map<Key, std::shared_ptr<Hosted>> models_;
  std::mutex step_mu_;  // one step at a time on the backend
  int64_t steps_total_ = 0;
};

}  // namespace accllm

#endif  // ACCLLM_WORKERS_SERVICE_MODEL_HOST_H_
