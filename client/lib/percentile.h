// Percentiles of latency samples for bench-serve.
#ifndef ACCLLM_CLIENT_LIB_PERCENTILE_H_
#define ACCLLM_CLIENT_LIB_PERCENTILE_H_

#include <vector>

namespace accllm::client {

// The p-th percentile (p in [0, 100]) with linear interpolation between the two
// nearest ranks (numpy's default), so p50 of {1, 2} is 1.5. NaN when `values`
// is empty (JSON writes it as null). Sorts `values` in place.
double Percentile(std::vector<double>& values, double p);

}  // namespace accllm::client

#endif  // ACCLLM_CLIENT_LIB_PERCENTILE_H_
