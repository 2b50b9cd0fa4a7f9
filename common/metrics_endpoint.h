// A process's Prometheus endpoint: one registry served as text at
// http://ADDRESS/metrics by prometheus-cpp's exposer. Port 0 picks a free one.
#ifndef ACCLLM_COMMON_METRICS_ENDPOINT_H_
#define ACCLLM_COMMON_METRICS_ENDPOINT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"  // absl::StatusOr

namespace prometheus {
class Exposer;
class Registry;
}  // namespace prometheus

namespace accllm {

class MetricsEndpoint {
 public:
  // `bind` is HOST:PORT; UNAVAILABLE (naming it) when it cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(const std::string& bind);
  ~MetricsEndpoint();

  prometheus::Registry& registry() { return *registry_; }
  const std::string& address() const { return address_; }  // with the port actually bound

 private:
  MetricsEndpoint() = default;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::string address_;
};

// Histogram buckets shared by both processes' latency metrics, in seconds.
const std::vector<double>& LatencyBucketsSeconds();
// Buckets for token counts per step.
const std::vector<double>& TokenCountBuckets();

}  // namespace accllm

#endif  // ACCLLM_COMMON_METRICS_ENDPOINT_H_
