// The credentials of accllm-server's ports, from its flags:
// - the public port (Inference, Models, Cluster operations, health,
//   reflection): TLS with --tls-cert/--tls-key, role tokens with --auth-tokens;
//   plaintext only on loopback (elsewhere with a loud warning, and never with
//   tokens, which would cross the network in clear);
// - the cluster port (worker registration and heartbeats): mutual TLS against
//   --cluster-tls-ca, the server presenting --cluster-tls-cert/--cluster-tls-key
//   (by default its --tls-cert/--tls-key), which it also presents to workers.
#ifndef ACCLLM_SERVER_PORTS_H_
#define ACCLLM_SERVER_PORTS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"               // absl::StatusOr
#include "common/tls.h"                         // TlsFiles
#include "server/auth/token_auth_processor.h"  // TokenAuthProcessor

namespace grpc {
class ChannelCredentials;
class ServerCredentials;
}  // namespace grpc

namespace accllm {

struct PublicPort {
  std::shared_ptr<grpc::ServerCredentials> credentials;
  std::shared_ptr<TokenAuthProcessor> auth;  // null: no tokens asked
};

// `tls`: cert and key (no CA: clients are authenticated by tokens).
absl::StatusOr<PublicPort> PublicPortCredentials(const std::string& listen, const TlsFiles& tls,
                                                 const std::string& auth_tokens);

// `tls`: the server's cluster cert/key and the cluster CA. Without a CA the
// cluster port must be loopback (plaintext).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ClusterPortCredentials(
    const std::string& listen, const TlsFiles& tls);

// How the server dials TCP workers: mutual TLS when the cluster CA is set,
// else null (plaintext).
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> WorkerDialCredentials(
    const TlsFiles& tls);

}  // namespace accllm

#endif  // ACCLLM_SERVER_PORTS_H_
