// gRPC status → absl::Status at the client's edge, so callers never see gRPC types
// in errors and every message says which server answered.
#ifndef ACCLLM_CLIENT_LIB_GRPC_STATUS_H_
#define ACCLLM_CLIENT_LIB_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"     // absl::Status
#include "grpcpp/support/status.h"  // grpc::Status

namespace accllm::client {

// Keeps the code and the server's message. UNAVAILABLE reads "accllm-server at
// ADDR is unavailable (UNAVAILABLE: ...)"; every other error
// "accllm-server at ADDR: CODE: message".
absl::Status FromGrpcStatus(const grpc::Status& status, const std::string& address);

// "UNAVAILABLE", "NOT_FOUND", ... (absl's spelling of the shared code space).
std::string StatusCodeName(absl::StatusCode code);

}  // namespace accllm::client

#endif  // ACCLLM_CLIENT_LIB_GRPC_STATUS_H_
