// accllm-server's metrics, named for what a dashboard needs (vLLM's habit):
// request outcomes, queue depth, time to first token, inter-token latency,
// cache usage per worker, preemptions, batch sizes, worker liveness.
//
// accllm_kv_pages_total is a counter per (worker, model) pool, added when a
// pool is created and removed with it: the name the dashboards use ends in
// _total, which Prometheus reserves for counters (promtool enforces it).
#ifndef ACCLLM_SERVER_SERVER_METRICS_H_
#define ACCLLM_SERVER_SERVER_METRICS_H_

#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace accllm {

class ServerMetrics {
 public:
  explicit ServerMetrics(prometheus::Registry& registry);

  // Per model.
  void CountRequest(const std::string& model, const std::string& status);
  void ObserveTimeToFirstToken(const std::string& model, double seconds);
  void ObserveInterTokenLatency(const std::string& model, double seconds);
  void ObserveRequestDuration(const std::string& model, double seconds);
  void AddPromptTokens(const std::string& model, int64_t n);
  void AddGenerationTokens(const std::string& model, int64_t n);
  void AddPreemptions(const std::string& model, int64_t n);
  void SetQueue(const std::string& model, int64_t running, int64_t waiting);
  void ObserveBatchTokens(const std::string& model, int64_t tokens);
  // accllm_model_state{model,state}: 1 for the state the model is in, 0 for the others it
  // was in before (kube-state-metrics' habit: alerts and panels select state="READY").
  void SetModelState(const std::string& model, const std::string& state);

  // Per worker.
  void ObserveStep(const std::string& worker, double seconds);
  void SetWorkerUp(const std::string& worker, const std::string& device, bool up);
  void SetPagesUsed(const std::string& worker, const std::string& model, int64_t version,
                    int64_t used);
  void AddPool(const std::string& worker, const std::string& model, int64_t version,
               int64_t pages);
  void RemovePool(const std::string& worker, const std::string& model, int64_t version);

  // Admission (--max-streams, --max-waiting): streams holding a slot or
  // queued for one, and streams refused ("busy", "draining").
  void SetAdmission(int64_t running, int64_t waiting);
  void CountAdmissionRejected(const std::string& reason);

 private:
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Gauge>* running_;
  prometheus::Family<prometheus::Gauge>* waiting_;
  prometheus::Family<prometheus::Histogram>* ttft_;
  prometheus::Family<prometheus::Histogram>* itl_;
  prometheus::Family<prometheus::Histogram>* duration_;
  prometheus::Family<prometheus::Counter>* prompt_tokens_;
  prometheus::Family<prometheus::Counter>* generation_tokens_;
  prometheus::Family<prometheus::Counter>* preemptions_;
  prometheus::Family<prometheus::Histogram>* batch_tokens_;
  prometheus::Family<prometheus::Histogram>* step_seconds_;
  prometheus::Family<prometheus::Gauge>* worker_up_;
  prometheus::Family<prometheus::Gauge>* pages_used_;
  prometheus::Family<prometheus::Counter>* pages_total_;
  prometheus::Family<prometheus::Gauge>* admission_streams_;
  prometheus::Family<prometheus::Counter>* admission_rejected_;
  prometheus::Family<prometheus::Gauge>* model_state_;

  std::mutex mu_;  // guards pools_ and model_states_ (Family::Add/Remove are thread-safe)
  std::map<std::tuple<std::string, std::string, int64_t>, prometheus::Counter*> pools_;
  std::map<std::string, std::string> model_states_;  // model -> state last set to 1
};

}  // namespace accllm

#endif  // ACCLLM_SERVER_SERVER_METRICS_H_
