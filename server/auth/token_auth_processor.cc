#include "server/auth/token_auth_processor.h"

#include "absl/strings/ascii.h"        // absl::EqualsIgnoreCase
#include "absl/strings/match.h"        // absl::EqualsIgnoreCase
#include "absl/strings/str_cat.h"      // absl::StrCat
#include "server/auth/method_roles.h"  // RequiredRole
#include "spdlog/spdlog.h"             // spdlog::info

namespace accllm {

absl::StatusOr<std::shared_ptr<TokenAuthProcessor>> TokenAuthProcessor::Create(
    const std::string& path) {
  std::shared_ptr<TokenAuthProcessor> processor(new TokenAuthProcessor(path));
  if (absl::Status loaded = processor->Reload(); !loaded.ok()) return loaded;
  return processor;
}

absl::Status TokenAuthProcessor::Reload() {
  absl::StatusOr<RoleTokens> tokens = RoleTokens::Load(path_);
  if (!tokens.ok()) return tokens.status();
  const size_t count = tokens->size();
  {
    std::lock_guard<std::mutex> lock(mu_);
    tokens_ = std::make_shared<const RoleTokens>(*std::move(tokens));
  }
  spdlog::info("--auth-tokens {}: {} tokens", path_, count);
  return absl::OkStatus();
}

grpc::Status TokenAuthProcessor::Process(const InputMetadata& auth_metadata,
                                         grpc::AuthContext* /*context*/,
                                         OutputMetadata* consumed_auth_metadata,
                                         OutputMetadata* /*response_metadata*/) {
  std::string path;
  if (auto it = auth_metadata.find(":path"); it != auth_metadata.end()) {
    path.assign(it->second.data(), it->second.size());
  }
  const std::optional<Role> required = RequiredRole(path);
  auto header = auth_metadata.find("authorization");
  if (header != auth_metadata.end()) {
    consumed_auth_metadata->emplace("authorization",
                                    std::string(header->second.data(), header->second.size()));
  }
  if (!required.has_value()) return grpc::Status::OK;
  if (header == auth_metadata.end()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        absl::StrCat(path, " needs a token: send metadata "
                                           "\"authorization: Bearer TOKEN\""));
  }
  const absl::string_view value(header->second.data(), header->second.size());
  const absl::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(value.substr(0, kScheme.size()), kScheme)) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "the authorization metadata must be \"Bearer TOKEN\"");
  }
  std::shared_ptr<const RoleTokens> tokens;
  {
    std::lock_guard<std::mutex> lock(mu_);
    tokens = tokens_;
  }
  const std::optional<Role> role = tokens->Find(value.substr(kScheme.size()));
  if (!role.has_value()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "unknown token");
  }
  if (static_cast<int>(*role) < static_cast<int>(*required)) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        absl::StrCat("role ", RoleName(*role), " may not call ", path,
                                     " (needs ", RoleName(*required), ")"));
  }
  return grpc::Status::OK;
}

}  // namespace accllm
