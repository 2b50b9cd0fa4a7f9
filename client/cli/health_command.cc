// accllm health: one grpc.health.v1.Health/Check call, for container
// healthchecks and scripts. Prints the status; exits 0 only when SERVING.
//
// Debian ships no generated client for grpc.health.v1, and the two messages
// are one field each, so the call goes through gRPC's generic stub with the
// fields encoded by protobuf's own wire-format helpers: the `accllm` binary
// needs no extra .proto.
#include <chrono>
#include <cmath>
#include <future>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"                           // ABSL_FLAG, absl::GetFlag
#include "absl/strings/str_cat.h"                      // absl::StrCat
#include "client/cli/command.h"                        // RunHealth
#include "client/cli/flags.h"                          // FLAGS_server, FLAGS_connect_timeout
#include "google/protobuf/io/coded_stream.h"           // CodedInputStream, CodedOutputStream
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"  // StringOutputStream
#include "google/protobuf/wire_format_lite.h"          // WireFormatLite
#include "client/lib/client.h"                         // client::OpenChannel
#include "grpcpp/generic/generic_stub.h"               // grpc::GenericStub
#include "grpcpp/support/byte_buffer.h"                // grpc::ByteBuffer

ABSL_FLAG(std::string, service, "",
          "the service to ask about (empty: the whole server; accllm.v1.Inference is SERVING "
          "only while a model is READY)");

namespace accllm::cli {

namespace {

using google::protobuf::internal::WireFormatLite;

// HealthCheckRequest { string service = 1; }
std::string EncodeRequest(const std::string& service) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream out(&stream);
    if (!service.empty()) WireFormatLite::WriteString(1, service, &out);
  }
  return bytes;
}

// HealthCheckResponse { ServingStatus status = 1; }: the status number, or -1 if malformed.
int DecodeStatus(const std::string& bytes) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  int status = 0;  // proto3: an absent field is UNKNOWN (0)
  while (uint32_t tag = in.ReadTag()) {
    if (tag == WireFormatLite::MakeTag(1, WireFormatLite::WIRETYPE_VARINT)) {
      uint32_t value;
      if (!in.ReadVarint32(&value)) return -1;
      status = static_cast<int>(value);
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return -1;
    }
  }
  return in.ConsumedEntireMessage() ? status : -1;
}

std::string StatusName(int status) {
  switch (status) {
    case 0: return "UNKNOWN";
    case 1: return "SERVING";
    case 2: return "NOT_SERVING";
    case 3: return "SERVICE_UNKNOWN";
    default: return absl::StrCat("status ", status);
  }
}

}  // namespace

absl::Status RunHealth(const std::vector<std::string>& args) {
  if (!args.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("unexpected argument \"", args[0], "\""));
  }
  const double seconds = absl::GetFlag(FLAGS_connect_timeout);
  if (!(seconds > 0) || !std::isfinite(seconds)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--connect-timeout must be a positive number of seconds, got ", seconds));
  }
  const std::string server = absl::GetFlag(FLAGS_server);
  const std::string service = absl::GetFlag(FLAGS_service);
  // Health is open (no token), but a TLS port needs the CA that signed it.
  client::ClientOptions options;
  options.tls_ca = absl::GetFlag(FLAGS_tls_ca);
  options.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = client::OpenChannel(server, options);
  if (!channel.ok()) return channel.status();
  grpc::GenericStub stub(*channel);
  grpc::ClientContext context;
  // One deadline bounds connecting and the call: a probe must never hang.
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(std::llround(seconds * 1000.0)));
  context.set_wait_for_ready(true);  // wait (until the deadline) for the server to come up
  const std::string request_bytes = EncodeRequest(service);
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                 &response, [&done](grpc::Status s) { done.set_value(std::move(s)); });
  const grpc::Status status = done.get_future().get();
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    std::cout << "SERVICE_UNKNOWN\n";
    return absl::NotFoundError(absl::StrCat(server, " does not know the service \"", service,
                                            "\""));
  }
  if (!status.ok()) {
    const std::string why = status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED
                                ? absl::StrCat("no answer within ", seconds, " s")
                                : status.error_message();
    return absl::UnavailableError(
        absl::StrCat("health check of ", server, " failed: ", why));
  }
  grpc::Slice answer;
  if (!response.DumpToSingleSlice(&answer).ok()) {
    return absl::InternalError(absl::StrCat(server, " sent an unreadable health response"));
  }
  const int serving = DecodeStatus(std::string(reinterpret_cast<const char*>(answer.begin()),
                                               answer.size()));
  if (serving < 0) {
    return absl::InternalError(absl::StrCat(server, " sent a malformed health response"));
  }
  std::cout << StatusName(serving) << "\n";
  if (serving != 1) {
    return absl::UnavailableError(absl::StrCat(
        server, service.empty() ? "" : absl::StrCat(" (", service, ")"), " is ",
        StatusName(serving)));
  }
  return absl::OkStatus();
}

}  // namespace accllm::cli
