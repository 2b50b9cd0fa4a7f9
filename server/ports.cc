#include "server/ports.h"

#include "absl/strings/str_cat.h"                // absl::StrCat
#include "grpcpp/security/credentials.h"         // grpc::ChannelCredentials
#include "grpcpp/security/server_credentials.h"  // grpc::InsecureServerCredentials
#include "spdlog/spdlog.h"                       // spdlog::warn

namespace accllm {

absl::StatusOr<PublicPort> PublicPortCredentials(const std::string& listen, const TlsFiles& tls,
                                                 const std::string& auth_tokens) {
  PublicPort port;
  const bool use_tls = !tls.cert.empty() || !tls.key.empty();
  if (use_tls) {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds = TlsServerCredentials(tls);
    if (!creds.ok()) return creds.status();
    port.credentials = *std::move(creds);
  } else if (IsLoopbackAddress(listen)) {
    // Local credentials accept only peers on this machine and, unlike the
    // insecure ones, carry an auth-metadata processor.
    port.credentials = grpc::experimental::LocalServerCredentials(
        IsUnixAddress(listen) ? UDS : LOCAL_TCP);
  } else {
    if (!auth_tokens.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--auth-tokens on a plaintext port (--listen ", listen,
          " is not loopback) would send the tokens in clear: give --tls-cert and --tls-key"));
    }
    spdlog::warn("*** --listen {} is not loopback and has no TLS: anyone who can reach it can "
                 "read prompts and replies and manage models. Give --tls-cert/--tls-key and "
                 "--auth-tokens. ***", listen);
    port.credentials = grpc::InsecureServerCredentials();
  }
  if (!auth_tokens.empty()) {
    absl::StatusOr<std::shared_ptr<TokenAuthProcessor>> auth =
        TokenAuthProcessor::Create(auth_tokens);
    if (!auth.ok()) return auth.status();
    port.auth = *std::move(auth);
    port.credentials->SetAuthMetadataProcessor(port.auth);
  }
  return port;
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ClusterPortCredentials(
    const std::string& listen, const TlsFiles& tls) {
  if (tls.ca.empty()) {
    if (!IsLoopbackAddress(listen)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--cluster-listen ", listen, " is not loopback: give --cluster-tls-ca (and the "
          "server's certificate) so only the cluster's workers can register"));
    }
    return grpc::experimental::LocalServerCredentials(IsUnixAddress(listen) ? UDS : LOCAL_TCP);
  }
  return TlsServerCredentials(tls);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> WorkerDialCredentials(
    const TlsFiles& tls) {
  if (tls.ca.empty()) return std::shared_ptr<grpc::ChannelCredentials>();
  if (tls.cert.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--cluster-tls-ca needs the server's certificate for the workers: give ", tls.cert_flag,
        " and ", tls.key_flag));
  }
  return TlsChannelCredentials(tls);
}

}  // namespace accllm
