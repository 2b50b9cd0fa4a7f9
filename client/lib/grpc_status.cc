#include "client/lib/grpc_status.h"

#include "absl/strings/str_cat.h"  // absl::StrCat
#include "proto/grpc_status.h"     // accllm::FromGrpcStatus (code mapping)

namespace accllm::client {

std::string StatusCodeName(absl::StatusCode code) {
  // absl's names are "UNAVAILABLE" etc.; gRPC and absl share the numeric codes.
  return absl::StatusCodeToString(code);
}

absl::Status FromGrpcStatus(const grpc::Status& status, const std::string& address) {
  const absl::Status mapped = accllm::FromGrpcStatus(status);
  if (mapped.ok()) return mapped;
  const std::string detail =
      absl::StrCat(StatusCodeName(mapped.code()), ": ", std::string(mapped.message()));
  if (mapped.code() == absl::StatusCode::kUnavailable) {
    // Unreachable, draining, or no worker for the model: the message says which.
    return absl::Status(mapped.code(),
                        absl::StrCat("accllm-server at ", address, " is unavailable (", detail, ")"));
  }
  return absl::Status(mapped.code(), absl::StrCat("accllm-server at ", address, ": ", detail));
}

}  // namespace accllm::client
