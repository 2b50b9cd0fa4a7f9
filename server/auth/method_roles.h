// Which role each gRPC method of the public port needs. Health stays open so
// probes and load balancers need no secret; anything not listed (reflection,
// model loading, the cluster) needs admin.
#ifndef ACCLLM_SERVER_AUTH_METHOD_ROLES_H_
#define ACCLLM_SERVER_AUTH_METHOD_ROLES_H_

#include <optional>

#include "absl/strings/string_view.h"  // absl::string_view
#include "server/auth/role_tokens.h"  // Role

namespace accllm {

// `path` is the HTTP/2 :path, "/package.Service/Method". nullopt: open to all.
std::optional<Role> RequiredRole(absl::string_view path);

}  // namespace accllm

#endif  // ACCLLM_SERVER_AUTH_METHOD_ROLES_H_
