// Role tokens on the public port: a gRPC AuthMetadataProcessor that reads the
// standard `authorization: Bearer TOKEN` metadata of every call, before any
// service (ours, reflection) sees it. No token: UNAUTHENTICATED; a role below
// what the method needs: PERMISSION_DENIED. The token is consumed (services
// never see it) and never logged. The table can be swapped at run time
// (SIGHUP re-reads --auth-tokens).
#ifndef ACCLLM_SERVER_AUTH_TOKEN_AUTH_PROCESSOR_H_
#define ACCLLM_SERVER_AUTH_TOKEN_AUTH_PROCESSOR_H_

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"                       // absl::Status
#include "grpcpp/security/auth_metadata_processor.h"  // grpc::AuthMetadataProcessor
#include "server/auth/role_tokens.h"                  // RoleTokens

namespace accllm {

class TokenAuthProcessor final : public grpc::AuthMetadataProcessor {
 public:
  // Reads `path` (an error names the line); keeps it for Reload.
  static absl::StatusOr<std::shared_ptr<TokenAuthProcessor>> Create(const std::string& path);

  // Re-reads the file; on error the tokens in force stay.
  absl::Status Reload();

  // Lookups are in memory: run inline, no thread hop per call.
  bool IsBlocking() const override { return false; }
  grpc::Status Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

 private:
  explicit TokenAuthProcessor(std::string path) : path_(std::move(path)) {}

  const std::string path_;
  mutable std::mutex mu_;
  std::shared_ptr<const RoleTokens> tokens_;
};

}  // namespace accllm

#endif  // ACCLLM_SERVER_AUTH_TOKEN_AUTH_PROCESSOR_H_
