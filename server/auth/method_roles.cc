#include "server/auth/method_roles.h"

#include "absl/strings/match.h"  // absl::StartsWith

namespace accllm {

std::optional<Role> RequiredRole(absl::string_view path) {
  if (absl::StartsWith(path, "/grpc.health.v1.Health/")) return std::nullopt;
  if (absl::StartsWith(path, "/accllm.v1.Inference/")) return Role::kInference;
  if (path == "/accllm.v1.Models/List" || path == "/accllm.v1.Models/Get" ||
      path == "/accllm.v1.Models/Statistics") {
    return Role::kInference;
  }
  return Role::kAdmin;
}

}  // namespace accllm
