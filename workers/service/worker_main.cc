// accllm-worker: one device (an FPGA card, or the CPU fallback) and its KV page
// pools, serving accllm.v1.Worker. It registers with a scheduler
// (--scheduler=HOST:PORT) or waits to be configured statically (--listen).
#include <sys/prctl.h>

#include <csignal>
#include <iostream>
#include <memory>
#include <string>

#include "absl/flags/flag.h"                     // ABSL_FLAG
#include "grpcpp/security/server_credentials.h"  // grpc::InsecureServerCredentials
#include "grpcpp/server_builder.h"               // grpc::ServerBuilder
#include "grpcpp/ext/proto_server_reflection_plugin.h"  // reflection
#include "grpcpp/health_check_service_interface.h"      // health
#include "spdlog/spdlog.h"                       // spdlog::info
#include "workers/service/device.h"              // ParseDevice, ChooseDevice
#include "common/bearer_token.h"                 // ResolveBearerToken
#include "common/tls.h"                          // TlsServerCredentials
#include "grpcpp/security/credentials.h"         // grpc::ChannelCredentials
#include "common/metrics_endpoint.h"    // MetricsEndpoint
#include "workers/service/model_host.h"          // ModelHost
#include "common/process_util.h"        // WaitForTerminationSignal
#include "workers/service/registration.h"        // Registration
#include "workers/service/worker_metrics.h"      // WorkerMetrics
#include "workers/service/worker_service.h"      // WorkerService

ABSL_FLAG(std::string, device, "auto",
          "auto (card 0 if --xclbin opens on it, else CPU), cpu, fpga-emu (the emulated card), "
          "or fpga:N (with --xclbin)");
ABSL_FLAG(std::string, xclbin, "", "the decoder kernel for an FPGA card (make fpga-xclbin)");
ABSL_FLAG(std::string, listen, "127.0.0.1:0", "HOST:PORT to serve accllm.v1.Worker on (0: any)");
ABSL_FLAG(std::string, scheduler, "",
          "accllm-server HOST:PORT to register with (empty: static configuration only)");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:0",
          "HOST:PORT for the Prometheus /metrics endpoint (empty: none)");
ABSL_FLAG(int32_t, kv_pages, 2048, "KV pages per loaded model (unless the scheduler asks)");
ABSL_FLAG(int32_t, kv_page_tokens, 16, "tokens per KV page");
ABSL_FLAG(int32_t, threads, 0, "kernel threads (0: all cores)");
ABSL_FLAG(std::string, ready_file, "",
          "once serving, write {\"grpc\":..., \"metrics\":...} to this file");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate (from the cluster CA) presented to the server and served on --listen");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls-cert");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM cluster CA: only a server with a certificate from it may send steps");
ABSL_FLAG(std::string, token_file, "",
          "role token for registering on a server port with --auth-tokens (or $ACCLLM_TOKEN)");
ABSL_FLAG(bool, exit_with_parent, false,
          "exit when the parent process dies (set by accllm-server for its local worker)");

namespace accllm {
namespace {

int Main() {
  if (absl::GetFlag(FLAGS_exit_with_parent)) prctl(PR_SET_PDEATHSIG, SIGTERM);
  absl::StatusOr<DeviceSpec> spec = ParseDevice(absl::GetFlag(FLAGS_device), absl::GetFlag(FLAGS_xclbin));
  if (!spec.ok()) {
    std::cerr << "accllm-worker: " << spec.status().message() << "\n";
    return 2;
  }
  absl::StatusOr<DeviceChoice> device = ChooseDevice(*spec);
  if (!device.ok()) {
    std::cerr << "accllm-worker: " << device.status().message() << "\n";
    return 1;
  }
  if (!device->fallback_why.empty()) {
    spdlog::warn("--device {}: running on the CPU: {}", absl::GetFlag(FLAGS_device),
                 device->fallback_why);
  }
  const int32_t kv_pages = absl::GetFlag(FLAGS_kv_pages);
  const int32_t page_tokens = absl::GetFlag(FLAGS_kv_page_tokens);
  if (kv_pages < 1 || page_tokens < 1 || absl::GetFlag(FLAGS_threads) < 0) {
    std::cerr << "accllm-worker: --kv-pages and --kv-page-tokens must be >= 1, --threads >= 0\n";
    return 2;
  }

  // Mutual TLS: the server proves itself with a certificate from the cluster
  // CA before it may send a step, and so does this worker when registering.
  TlsFiles tls;
  tls.cert = absl::GetFlag(FLAGS_tls_cert);
  tls.key = absl::GetFlag(FLAGS_tls_key);
  tls.ca = absl::GetFlag(FLAGS_tls_ca);
  const std::string listen = absl::GetFlag(FLAGS_listen);
  const bool use_tls = !tls.cert.empty() || !tls.key.empty() || !tls.ca.empty();
  std::shared_ptr<grpc::ServerCredentials> listen_credentials = grpc::InsecureServerCredentials();
  std::shared_ptr<grpc::ChannelCredentials> register_credentials;
  if (use_tls) {
    if (tls.ca.empty() || tls.cert.empty()) {
      std::cerr << "accllm-worker: mutual TLS needs --tls-cert, --tls-key and --tls-ca\n";
      return 2;
    }
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> server_creds =
        TlsServerCredentials(tls);
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> channel_creds =
        TlsChannelCredentials(tls);
    if (!server_creds.ok() || !channel_creds.ok()) {
      std::cerr << "accllm-worker: "
                << (server_creds.ok() ? channel_creds.status() : server_creds.status()).message()
                << "\n";
      return 2;
    }
    listen_credentials = *server_creds;
    register_credentials = *channel_creds;
  } else if (!IsLoopbackAddress(listen)) {
    spdlog::warn("*** --listen {} is not loopback and has no TLS: anyone who can reach it can "
                 "send steps and read prompts. Give --tls-cert/--tls-key/--tls-ca. ***", listen);
  }
  absl::StatusOr<std::string> token = ResolveBearerToken(absl::GetFlag(FLAGS_token_file));
  if (!token.ok()) {
    std::cerr << "accllm-worker: " << token.status().message() << "\n";
    return 2;
  }

  std::unique_ptr<MetricsEndpoint> metrics_endpoint;
  if (const std::string bind = absl::GetFlag(FLAGS_metrics_listen); !bind.empty()) {
    absl::StatusOr<std::unique_ptr<MetricsEndpoint>> started = MetricsEndpoint::Start(bind);
    if (!started.ok()) {
      std::cerr << "accllm-worker: " << started.status().message() << "\n";
      return 1;
    }
    metrics_endpoint = *std::move(started);
  }

  ModelHost host({.kv_pages = kv_pages,
                   .page_tokens = page_tokens,
                   .threads = absl::GetFlag(FLAGS_threads),
                   .max_kv_pages = 1 << 20},
                  device->instance);
  // The worker's id at the server is the address it serves on: known only
  // after binding, so metrics are created then.
  std::unique_ptr<WorkerMetrics> metrics;
  WorkerIdentity identity{.device = device->device,
                          .backend = device->backend,
                          .metrics_address = metrics_endpoint ? metrics_endpoint->address() : ""};

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, listen_credentials, &port);
  // Steps carry whole prompts: allow large messages.
  builder.SetMaxReceiveMessageSize(256 << 20);
  builder.SetMaxSendMessageSize(256 << 20);
  // The service needs the metrics, which need the port: register a forwarding
  // holder now and fill it once bound.
  auto holder = std::make_unique<WorkerService>(host, identity, nullptr);
  builder.RegisterService(holder.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "accllm-worker: cannot listen on " << listen << "\n";
    return 1;
  }
  const std::string address = WithPort(listen, port);
  if (metrics_endpoint) {
    metrics = std::make_unique<WorkerMetrics>(metrics_endpoint->registry(), address,
                                              device->device, device->backend);
    holder->set_metrics(metrics.get());
  }
  spdlog::info("accllm-worker serving on {} (device {}, backend {}, metrics {})", address,
               device->device, device->backend, identity.metrics_address);

  std::unique_ptr<Registration> registration;
  if (const std::string scheduler = absl::GetFlag(FLAGS_scheduler); !scheduler.empty()) {
    RegistrationInfo info;
    info.scheduler = scheduler;
    if (!IsUnixAddress(scheduler)) info.credentials = register_credentials;
    info.token = *token;
    info.request.set_address(address);
    info.request.set_device(device->device);
    info.request.set_kv_pages_total(kv_pages);
    info.request.set_kv_page_tokens(page_tokens);
    info.request.set_metrics_address(identity.metrics_address);
    info.request.set_backend(device->backend);
    info.fill_heartbeat = [&host](v1::HeartbeatRequest* request) {
      request->set_kv_pages_used(host.PagesUsed());
      request->set_steps_total(host.StepsTotal());
      CountersToProto(host.Counters(), request->mutable_device_counters());
    };
    registration = std::make_unique<Registration>(std::move(info));
  }
  if (const std::string ready = absl::GetFlag(FLAGS_ready_file); !ready.empty()) {
    absl::Status written =
        WriteReadyFile(ready, {{"grpc", address}, {"metrics", identity.metrics_address}});
    if (!written.ok()) spdlog::error("--ready-file: {}", written.ToString());
  }

  const int signal_number = WaitForTerminationSignal();
  spdlog::info("accllm-worker: signal {}, shutting down", signal_number);
  registration.reset();
  // The scheduler recomputes whatever a step in flight was doing elsewhere.
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server->Wait();
  return 0;
}

}  // namespace
}  // namespace accllm

int main(int argc, char** argv) {
  accllm::ParseDaemonFlags(argc, argv,
      "accllm-worker [--device auto|cpu|fpga-emu|fpga:N] [--xclbin F] [--scheduler HOST:PORT]\n"
      "              [--listen HOST:PORT] [--metrics-listen HOST:PORT] [--kv-pages N] [--threads T] [--ready-file F]\n"
      "              [--tls-cert F --tls-key F --tls-ca F] [--token-file F]");
  return accllm::Main();
}
