// TLS and mutual TLS for every gRPC endpoint of the project (the server's
// public and cluster ports, the workers, the clients), built from PEM files
// named on the command line. Errors name the flag and the file.
#ifndef ACCLLM_COMMON_TLS_H_
#define ACCLLM_COMMON_TLS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"  // absl::StatusOr

namespace grpc {
class ChannelCredentials;
class ServerCredentials;
}  // namespace grpc

namespace accllm {

// A PEM file given by `flag` (e.g. "--tls-cert"): its text, or an error that
// names the flag and the path (missing, unreadable, empty or not PEM).
absl::StatusOr<std::string> ReadPemFile(const std::string& flag, const std::string& path);

// What a TLS endpoint presents and trusts; each field a path given by the flag
// in its name. Empty cert/key: the endpoint presents no certificate (clients
// of a server-authenticated port); empty ca: the system's roots (clients) or no
// client certificates asked (servers).
struct TlsFiles {
  std::string cert;  // --tls-cert
  std::string key;   // --tls-key
  std::string ca;    // --tls-ca
  std::string cert_flag = "--tls-cert";
  std::string key_flag = "--tls-key";
  std::string ca_flag = "--tls-ca";
};

// A server port: presents cert/key (both required); with `ca` set it requires
// and verifies a client certificate signed by that CA (mutual TLS).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> TlsServerCredentials(
    const TlsFiles& files);

// A client channel: trusts `ca` (or the system's roots when empty) and, when
// cert/key are set, presents them (mutual TLS). cert and key come together.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> TlsChannelCredentials(
    const TlsFiles& files);

// Whether a gRPC listen or dial address is a Unix socket ("unix:PATH").
bool IsUnixAddress(const std::string& address);
// Whether HOST:PORT binds or names only this machine (127.0.0.0/8, ::1,
// localhost) — where plaintext is acceptable.
bool IsLoopbackAddress(const std::string& address);

}  // namespace accllm

#endif  // ACCLLM_COMMON_TLS_H_
