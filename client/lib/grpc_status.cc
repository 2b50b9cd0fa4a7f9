#include "client/lib/grpc_status.h"

#include "absl/strings/str_cat.h"  // absl::StrCat

namespace accllm::client {

std::string StatusCodeName(absl::StatusCode code) {
  // absl's names are "UNAVAILABLE" etc.; gRPC and absl share the numeric codes.
  return absl::StatusCodeToString(code);
}

absl::Status FromGrpcStatus(const grpc::Status& status, const std::string& address) {
  if (status.ok()) return absl::OkStatus();
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  const std::string detail = absl::StrCat(StatusCodeName(code), ": ", status.error_message());
  if (code == absl::StatusCode::kUnavailable) {
    return absl::Status(code,
                        absl::StrCat("cannot reach accllm-server at ", address, " (", detail, ")"));
  }
  return absl::Status(code, absl::StrCat("accllm-server at ", address, ": ", detail));
}

}  // namespace accllm::client
