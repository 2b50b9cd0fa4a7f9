#include "server/server_metrics.h"

#include "prometheus/counter.h"                // prometheus::BuildCounter
#include "prometheus/gauge.h"                  // prometheus::BuildGauge
#include "prometheus/histogram.h"              // prometheus::BuildHistogram
#include "prometheus/registry.h"               // prometheus::Registry
#include "common/metrics_endpoint.h"  // LatencyBucketsSeconds, TokenCountBuckets

namespace accllm {

namespace {
const std::vector<double>& InterTokenBuckets() {
  static const std::vector<double> buckets = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.04,
                                              0.06,   0.08,  0.1,   0.15,  0.2,  0.3,  0.5,
                                              1,      2.5};
  return buckets;
}
}  // namespace

ServerMetrics::ServerMetrics(prometheus::Registry& registry)
    : requests_(&prometheus::BuildCounter()
                     .Name("accllm_requests_total")
                     .Help("Finished requests by model and outcome (stop, length, context, "
                           "deadline, cancelled, error, rejected)")
                     .Register(registry)),
      running_(&prometheus::BuildGauge()
                    .Name("accllm_requests_running")
                    .Help("Requests prefilling or decoding")
                    .Register(registry)),
      waiting_(&prometheus::BuildGauge()
                    .Name("accllm_requests_waiting")
                    .Help("Requests queued for KV pages or a worker")
                    .Register(registry)),
      ttft_(&prometheus::BuildHistogram()
                 .Name("accllm_time_to_first_token_seconds")
                 .Help("From arrival to the first generated token")
                 .Register(registry)),
      itl_(&prometheus::BuildHistogram()
                .Name("accllm_inter_token_latency_seconds")
                .Help("Between successive generated tokens of one request")
                .Register(registry)),
      duration_(&prometheus::BuildHistogram()
                     .Name("accllm_request_duration_seconds")
                     .Help("From arrival to the last token")
                     .Register(registry)),
      prompt_tokens_(&prometheus::BuildCounter()
                          .Name("accllm_prompt_tokens_total")
                          .Help("Prompt tokens of admitted requests")
                          .Register(registry)),
      generation_tokens_(&prometheus::BuildCounter()
                              .Name("accllm_generation_tokens_total")
                              .Help("Tokens generated and streamed")
                              .Register(registry)),
      preemptions_(&prometheus::BuildCounter()
                        .Name("accllm_preemptions_total")
                        .Help("Sequences preempted (recomputed later) for lack of KV pages")
                        .Register(registry)),
      batch_tokens_(&prometheus::BuildHistogram()
                         .Name("accllm_batch_tokens")
                         .Help("Tokens per scheduled step (decodes + prefill chunks)")
                         .Register(registry)),
      step_seconds_(&prometheus::BuildHistogram()
                         .Name("accllm_step_duration_seconds")
                         .Help("One step as the scheduler sees it (RPC included), per worker")
                         .Register(registry)),
      worker_up_(&prometheus::BuildGauge()
                      .Name("accllm_worker_up")
                      .Help("1 while the worker is registered and healthy, 0 once it failed")
                      .Register(registry)),
      pages_used_(&prometheus::BuildGauge()
                       .Name("accllm_kv_pages_used")
                       .Help("KV pages allocated to sequences, per worker and model")
                       .Register(registry)),
      pages_total_(&prometheus::BuildCounter()
                        .Name("accllm_kv_pages_total")
                        .Help("KV pages of each live (worker, model) pool; the series goes "
                              "away with the pool")
                        .Register(registry)),
      admission_streams_(&prometheus::BuildGauge()
                              .Name("accllm_admission_streams")
                              .Help("Generate streams holding a slot (state=running) or queued "
                                    "for one (state=waiting) under --max-streams")
                              .Register(registry)),
      admission_rejected_(&prometheus::BuildCounter()
                               .Name("accllm_admission_rejected_total")
                               .Help("Generate streams refused at admission: busy (running and "
                                     "waiting streams full) or draining")
                               .Register(registry)),
      model_state_(&prometheus::BuildGauge()
                        .Name("accllm_model_state")
                        .Help("1 for the state each repository model is in (AVAILABLE, LOADING, "
                              "READY, UNLOADING, FAILED), 0 for states it left")
                        .Register(registry)) {
  SetAdmission(0, 0);
  for (const char* reason : {"busy", "draining"}) admission_rejected_->Add({{"reason", reason}});
}

void ServerMetrics::SetAdmission(int64_t running, int64_t waiting) {
  admission_streams_->Add({{"state", "running"}}).Set(static_cast<double>(running));
  admission_streams_->Add({{"state", "waiting"}}).Set(static_cast<double>(waiting));
}
void ServerMetrics::CountAdmissionRejected(const std::string& reason) {
  admission_rejected_->Add({{"reason", reason}}).Increment();
}

void ServerMetrics::CountRequest(const std::string& model, const std::string& status) {
  requests_->Add({{"model", model}, {"status", status}}).Increment();
}
void ServerMetrics::ObserveTimeToFirstToken(const std::string& model, double seconds) {
  ttft_->Add({{"model", model}}, LatencyBucketsSeconds()).Observe(seconds);
}
void ServerMetrics::ObserveInterTokenLatency(const std::string& model, double seconds) {
  itl_->Add({{"model", model}}, InterTokenBuckets()).Observe(seconds);
}
void ServerMetrics::ObserveRequestDuration(const std::string& model, double seconds) {
  duration_->Add({{"model", model}}, LatencyBucketsSeconds()).Observe(seconds);
}
void ServerMetrics::AddPromptTokens(const std::string& model, int64_t n) {
  prompt_tokens_->Add({{"model", model}}).Increment(static_cast<double>(n));
}
void ServerMetrics::AddGenerationTokens(const std::string& model, int64_t n) {
  generation_tokens_->Add({{"model", model}}).Increment(static_cast<double>(n));
}
void ServerMetrics::AddPreemptions(const std::string& model, int64_t n) {
  preemptions_->Add({{"model", model}}).Increment(static_cast<double>(n));
}
void ServerMetrics::SetQueue(const std::string& model, int64_t running, int64_t waiting) {
  running_->Add({{"model", model}}).Set(static_cast<double>(running));
  waiting_->Add({{"model", model}}).Set(static_cast<double>(waiting));
}
void ServerMetrics::ObserveBatchTokens(const std::string& model, int64_t tokens) {
  batch_tokens_->Add({{"model", model}}, TokenCountBuckets()).Observe(static_cast<double>(tokens));
}
void ServerMetrics::SetModelState(const std::string& model, const std::string& state) {
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = model_states_.try_emplace(model, state);
  if (!inserted && it->second != state) {
    model_state_->Add({{"model", model}, {"state", it->second}}).Set(0);
    it->second = state;
  }
  model_state_->Add({{"model", model}, {"state", state}}).Set(1);
}
void ServerMetrics::ObserveStep(const std::string& worker, double seconds) {
  step_seconds_->Add({{"worker", worker}}, LatencyBucketsSeconds()).Observe(seconds);
}
void ServerMetrics::SetWorkerUp(const std::string& worker, const std::string& device, bool up) {
  worker_up_->Add({{"worker", worker}, {"device", device}}).Set(up ? 1 : 0);
}
namespace {
prometheus::Labels PoolLabels(const std::string& worker, const std::string& model,
                              int64_t version) {
  return {{"worker", worker}, {"model", model}, {"version", std::to_string(version)}};
}
}  // namespace

void ServerMetrics::SetPagesUsed(const std::string& worker, const std::string& model,
                                 int64_t version, int64_t used) {
  pages_used_->Add(PoolLabels(worker, model, version)).Set(static_cast<double>(used));
}
void ServerMetrics::AddPool(const std::string& worker, const std::string& model, int64_t version,
                            int64_t pages) {
  std::lock_guard<std::mutex> lock(mu_);
  auto key = std::make_tuple(worker, model, version);
  if (auto it = pools_.find(key); it != pools_.end()) pages_total_->Remove(it->second);
  prometheus::Counter& c = pages_total_->Add(PoolLabels(worker, model, version));
  c.Increment(static_cast<double>(pages));
  pools_[key] = &c;
}
void ServerMetrics::RemovePool(const std::string& worker, const std::string& model,
                               int64_t version) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pools_.find(std::make_tuple(worker, model, version));
  if (it == pools_.end()) return;
  pages_total_->Remove(it->second);
  pools_.erase(it);
  pages_used_->Remove(&pages_used_->Add(PoolLabels(worker, model, version)));
}

}  // namespace accllm
