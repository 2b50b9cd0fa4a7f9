#include "common/metrics_endpoint.h"

#include <exception>

#include "absl/strings/str_cat.h"  // absl::StrCat
#include "prometheus/exposer.h"    // prometheus::Exposer
#include "prometheus/registry.h"   // prometheus::Registry

namespace accllm {

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(const std::string& bind) {
  const size_t colon = bind.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address \"", bind, "\" is not HOST:PORT"));
  }
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint());
  endpoint->registry_ = std::make_shared<prometheus::Registry>();
  try {
    // civetweb threads: 2 are plenty for a scrape every few seconds.
    endpoint->exposer_ = std::make_unique<prometheus::Exposer>(bind, 2);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", bind, ": ", e.what()));
  }
  endpoint->exposer_->RegisterCollectable(endpoint->registry_);
  const std::vector<int> ports = endpoint->exposer_->GetListeningPorts();
  endpoint->address_ =
      absl::StrCat(bind.substr(0, colon), ":", ports.empty() ? 0 : ports.front());
  return endpoint;
}

MetricsEndpoint::~MetricsEndpoint() = default;

const std::vector<double>& LatencyBucketsSeconds() {
  static const std::vector<double> buckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                              0.25,  0.5,    1,     2.5,  5,     10,   30, 60};
  return buckets;
}

const std::vector<double>& TokenCountBuckets() {
  static const std::vector<double> buckets = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048};
  return buckets;
}

}  // namespace accllm
