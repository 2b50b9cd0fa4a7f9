// absl::Status ↔ grpc::Status at the gRPC edges: codes map one to one (they
// share numbering) and messages are kept.
#ifndef ACCLLM_PROTO_GRPC_STATUS_H_
#define ACCLLM_PROTO_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"  // absl::Status
#include "grpcpp/support/status.h"  // grpc::Status

namespace accllm {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

inline absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace accllm

#endif  // ACCLLM_PROTO_GRPC_STATUS_H_
