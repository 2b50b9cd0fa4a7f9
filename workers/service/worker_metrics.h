// accllm-worker's own metrics: what its backend did, step by step.
#ifndef ACCLLM_WORKERS_SERVICE_WORKER_METRICS_H_
#define ACCLLM_WORKERS_SERVICE_WORKER_METRICS_H_

#include <string>

#include "workers/service/model_host.h"  // StepStats

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
}  // namespace prometheus

namespace accllm {

class WorkerMetrics {
 public:
  // `worker` is the worker's address (its id at the server), `device` e.g. "cpu",
  // `backend` e.g. "cpu/AVX3". Names are accllm_worker_*: the server exports the
  // cluster-wide ones (accllm_step_duration_seconds, accllm_kv_pages_used...).
  WorkerMetrics(prometheus::Registry& registry, const std::string& worker,
                const std::string& device, const std::string& backend);

  void ObserveStep(const StepStats& stats);
  void SetPages(int32_t used, int32_t total);
  void CountFailedStep();

 private:
  prometheus::Histogram* step_seconds_;
  prometheus::Histogram* batch_tokens_;
  prometheus::Counter* steps_;
  prometheus::Counter* failed_steps_;
  prometheus::Counter* tokens_;
  prometheus::Counter* page_copies_;
  prometheus::Gauge* pages_used_;
  prometheus::Gauge* pages_total_;
  prometheus::Counter* device_read_bytes_;
  prometheus::Counter* device_written_bytes_;
  prometheus::Counter* device_launches_;
  prometheus::Counter* device_kernel_seconds_;
};

}  // namespace accllm

#endif  // ACCLLM_WORKERS_SERVICE_WORKER_METRICS_H_
