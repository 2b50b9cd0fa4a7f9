#include "workers/service/worker_metrics.h"

#include "prometheus/counter.h"    // prometheus::BuildCounter
#include "prometheus/gauge.h"      // prometheus::BuildGauge
#include "prometheus/histogram.h"  // prometheus::BuildHistogram
#include "prometheus/registry.h"   // prometheus::Registry
#include "common/metrics_endpoint.h"  // LatencyBucketsSeconds

namespace accllm {

WorkerMetrics::WorkerMetrics(prometheus::Registry& registry, const std::string& worker,
                             const std::string& device, const std::string& backend) {
  const prometheus::Labels labels = {{"worker", worker}};
  step_seconds_ = &prometheus::BuildHistogram()
                       .Name("accllm_worker_step_seconds")
                       .Help("Compute time of one batched step on this worker's backend (the server's "
                             "accllm_step_duration_seconds adds the RPC)")
                       .Register(registry)
                       .Add(labels, LatencyBucketsSeconds());
  batch_tokens_ = &prometheus::BuildHistogram()
                       .Name("accllm_worker_batch_tokens")
                       .Help("Tokens fed per step (prefill chunks + decodes)")
                       .Register(registry)
                       .Add(labels, TokenCountBuckets());
  steps_ = &prometheus::BuildCounter()
                .Name("accllm_worker_steps_total")
                .Help("Steps run by this worker")
                .Register(registry)
                .Add(labels);
  failed_steps_ = &prometheus::BuildCounter()
                       .Name("accllm_worker_failed_steps_total")
                       .Help("Steps this worker rejected or failed")
                       .Register(registry)
                       .Add(labels);
  tokens_ = &prometheus::BuildCounter()
                 .Name("accllm_worker_tokens_total")
                 .Help("Tokens fed through the model by this worker")
                 .Register(registry)
                 .Add(labels);
  page_copies_ = &prometheus::BuildCounter()
                      .Name("accllm_worker_kv_page_copies_total")
                      .Help("KV pages copied for copy-on-write of shared prompt prefixes")
                      .Register(registry)
                      .Add(labels);
  pages_used_ = &prometheus::BuildGauge()
                     .Name("accllm_worker_kv_pages_touched")
                     .Help("KV pages the last step of each model read or wrote (the server's "
                           "accllm_kv_pages_used counts allocation)")
                     .Register(registry)
                     .Add(labels);
  pages_total_ = &prometheus::BuildGauge()
                      .Name("accllm_worker_kv_pool_pages")
                      .Help("KV pages in this worker's pools, over every loaded model")
                      .Register(registry)
                      .Add(labels);
  // What the device counted: the FPGA card's HBM traffic and launches (the CPU backend counts
  // the weights it streamed and no launches).
  const prometheus::Labels device_labels = {{"worker", worker}, {"device", device}};
  device_read_bytes_ = &prometheus::BuildCounter()
                            .Name("accllm_worker_device_read_bytes_total")
                            .Help("Device memory the backend's kernels read (HBM on a card)")
                            .Register(registry)
                            .Add(device_labels);
  device_written_bytes_ = &prometheus::BuildCounter()
                               .Name("accllm_worker_device_written_bytes_total")
                               .Help("Device memory the backend's kernels wrote")
                               .Register(registry)
                               .Add(device_labels);
  device_launches_ = &prometheus::BuildCounter()
                          .Name("accllm_worker_device_launches_total")
                          .Help("Kernel launches on the device")
                          .Register(registry)
                          .Add(device_labels);
  device_kernel_seconds_ = &prometheus::BuildCounter()
                                .Name("accllm_worker_device_kernel_seconds_total")
                                .Help("Kernel time on the device (the emulated card's is modelled)")
                                .Register(registry)
                                .Add(device_labels);
  prometheus::BuildGauge()
      .Name("accllm_worker_info")
      .Help("1 while the worker process serves; labels say what it runs on")
      .Register(registry)
      .Add({{"worker", worker}, {"device", device}, {"backend", backend}})
      .Set(1);
}

void WorkerMetrics::ObserveStep(const StepStats& stats) {
  step_seconds_->Observe(stats.seconds);
  batch_tokens_->Observe(static_cast<double>(stats.tokens));
  steps_->Increment();
  tokens_->Increment(static_cast<double>(stats.tokens));
  page_copies_->Increment(static_cast<double>(stats.page_copies));
  device_read_bytes_->Increment(static_cast<double>(stats.device.bytes_read));
  device_written_bytes_->Increment(static_cast<double>(stats.device.bytes_written));
  device_launches_->Increment(static_cast<double>(stats.device.launches));
  device_kernel_seconds_->Increment(stats.device.kernel_seconds);
}

void WorkerMetrics::SetPages(int32_t used, int32_t total) {
  pages_used_->Set(used);
  pages_total_->Set(total);
}

void WorkerMetrics::CountFailedStep() { failed_steps_->Increment(); }

}  // namespace accllm
