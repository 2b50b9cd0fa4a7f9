// accllm-server: the scheduler daemon. Serves accllm.v1.{Inference, Models,
// Cluster}, grpc.health.v1 and reflection on --listen, Prometheus metrics on
// --metrics-listen; runs the models of --model-repository on the workers that
// register with it (by default one local accllm-worker child it supervises).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"                            // ABSL_FLAG
#include "absl/strings/str_split.h"                     // absl::StrSplit
#include "grpcpp/ext/proto_server_reflection_plugin.h"  // reflection
#include "grpcpp/health_check_service_interface.h"      // health
#include "grpcpp/security/server_credentials.h"         // grpc::InsecureServerCredentials
#include "grpcpp/security/credentials.h"                // grpc::ChannelCredentials
#include "grpcpp/server_builder.h"                      // grpc::ServerBuilder
#include "server/admission.h"                           // Admission
#include "server/cluster.h"                             // Cluster
#include "server/control_services.h"                    // ModelsService, ClusterService
#include "server/inference_service.h"                   // InferenceService
#include "server/local_worker.h"                        // LocalWorker
#include "server/model_manager.h"                       // ModelManager
#include "server/ports.h"                               // PublicPortCredentials
#include "server/socket_directory.h"                    // SocketDirectory
#include "server/server_metrics.h"                      // ServerMetrics
#include "spdlog/spdlog.h"                              // spdlog::info
#include "common/metrics_endpoint.h"           // MetricsEndpoint
#include "common/process_util.h"               // WaitForTerminationSignal

ABSL_FLAG(std::string, listen, "127.0.0.1:50051", "HOST:PORT for the gRPC API (port 0: any)");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9464",
          "HOST:PORT for Prometheus /metrics (empty: none; port 0: any)");
ABSL_FLAG(std::string, model_repository, "models",
          "directory whose subdirectories are model directories");
ABSL_FLAG(std::string, load_model, "*",
          "models to load at start: comma-separated names, * for all, empty for none");
ABSL_FLAG(std::string, default_model, "",
          "model of requests that name none (empty: the only ready one)");
ABSL_FLAG(std::string, workers, "",
          "comma-separated HOST:PORT of accllm-worker --listen processes to use");
ABSL_FLAG(bool, local_worker, true,
          "with no --workers, run one accllm-worker child (restarted if it dies)");
ABSL_FLAG(std::string, worker_binary, "", "accllm-worker to run (default: beside this binary)");
ABSL_FLAG(std::string, worker_device, "auto", "--device of the local worker");
ABSL_FLAG(int32_t, worker_threads, 0, "--threads of the local worker (0: all cores)");
ABSL_FLAG(int32_t, worker_kv_pages, 2048, "--kv-pages of the local worker");
ABSL_FLAG(std::string, worker_metrics_listen, "127.0.0.1:0", "--metrics-listen of the local worker");
ABSL_FLAG(int32_t, min_workers, 1, "workers to wait for before loading models at start");
ABSL_FLAG(double, worker_wait_seconds, 60, "how long to wait for them");
ABSL_FLAG(double, heartbeat_seconds, 1.0, "worker heartbeat interval");
ABSL_FLAG(double, lease_seconds, 5.0, "a worker silent this long is down");
ABSL_FLAG(int32_t, token_budget, 512, "tokens per step per worker (decodes + prefill chunks)");
ABSL_FLAG(int32_t, default_max_tokens, 256, "max_tokens of requests that leave it 0");
ABSL_FLAG(double, step_timeout_seconds, 600, "a step RPC slower than this fails its worker");
ABSL_FLAG(double, no_worker_timeout_seconds, 30,
          "requests waiting while no worker holds their model fail after this long");
ABSL_FLAG(double, drain_seconds, 30, "on SIGTERM, how long running streams may finish");
ABSL_FLAG(std::string, ready_file, "",
          "once listening, write {\"grpc\":..., \"metrics\":..., \"cluster\":...} here");
// Security (README "Security").
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate of the public port (TLS)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls-cert");
ABSL_FLAG(std::string, auth_tokens, "",
          "file of \"ROLE TOKEN\" lines (roles inference, admin); clients send "
          "\"authorization: Bearer TOKEN\". Re-read on SIGHUP");
ABSL_FLAG(std::string, cluster_listen, "",
          "HOST:PORT serving worker registration and heartbeats (mutual TLS with "
          "--cluster-tls-ca); when set, the public port no longer serves them");
ABSL_FLAG(std::string, cluster_tls_ca, "",
          "PEM CA whose certificates workers must present (and the server's workers must hold)");
ABSL_FLAG(std::string, cluster_tls_cert, "",
          "the server's certificate for the cluster port and towards workers (default --tls-cert)");
ABSL_FLAG(std::string, cluster_tls_key, "", "PEM private key of --cluster-tls-cert");
// Limits.
ABSL_FLAG(int32_t, max_streams, 256, "Generate streams running at once (0: no limit)");
ABSL_FLAG(int32_t, max_waiting, 1024,
          "streams queued for a slot beyond --max-streams; more get RESOURCE_EXHAUSTED");
ABSL_FLAG(int32_t, max_request_bytes, 4 << 20, "largest request message accepted, in bytes");
ABSL_FLAG(int64_t, max_prompt_tokens, 1 << 20, "longest prompt a request may send, in tokens");
ABSL_FLAG(double, keepalive_seconds, 60,
          "ping idle clients this often; one silent for 20 s more is dropped and its streams freed");

namespace accllm {
namespace {

constexpr const char* kInferenceService = "accllm.v1.Inference";

std::string SelfDirectory() {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "." : self.parent_path().string();
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    out.emplace_back(item);
  }
  return out;
}

// HOST:PORT, or unix:PATH. `bind`: an address to listen on (port 0: any; no host: every
// interface); otherwise one to dial (a host and a port in [1, 65535]).
bool IsListenAddress(const std::string& address, bool bind) {
  if (address.rfind("unix:", 0) == 0) return address.size() > 5;
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || (colon == 0 && !bind)) return false;
  const std::string port = address.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  const int n = std::stoi(port);
  return n <= 65535 && (n >= 1 || bind);
}

// Flags the process cannot run with: the message names the flag and what it accepts.
std::string FlagError() {
  auto seconds = [](double v, bool zero_ok) {
    return std::isfinite(v) && (v > 0 || (zero_ok && v == 0));
  };
  if (!IsListenAddress(absl::GetFlag(FLAGS_listen), true)) {
    return "--listen \"" + absl::GetFlag(FLAGS_listen) + "\" is not HOST:PORT";
  }
  if (const std::string m = absl::GetFlag(FLAGS_metrics_listen);
      !m.empty() && !IsListenAddress(m, true)) {
    return "--metrics-listen \"" + m + "\" is not HOST:PORT (or empty for none)";
  }
  if (const std::string c = absl::GetFlag(FLAGS_cluster_listen);
      !c.empty() && !IsListenAddress(c, true)) {
    return "--cluster-listen \"" + c + "\" is not HOST:PORT (or empty: the public port)";
  }
  if (absl::GetFlag(FLAGS_model_repository).empty()) return "--model-repository is empty";
  for (const std::string& w : SplitList(absl::GetFlag(FLAGS_workers))) {
    if (!IsListenAddress(w, false)) {
      return "--workers: \"" + w + "\" is not HOST:PORT with a port in [1, 65535]";
    }
  }
  if (!seconds(absl::GetFlag(FLAGS_drain_seconds), true)) {
    return "--drain-seconds must be a number of seconds >= 0";
  }
  if (!seconds(absl::GetFlag(FLAGS_lease_seconds), false)) return "--lease-seconds must be > 0";
  if (!seconds(absl::GetFlag(FLAGS_heartbeat_seconds), false) ||
      !(absl::GetFlag(FLAGS_heartbeat_seconds) < absl::GetFlag(FLAGS_lease_seconds))) {
    return "--heartbeat-seconds must be > 0 and less than --lease-seconds";
  }
  if (!seconds(absl::GetFlag(FLAGS_step_timeout_seconds), false)) {
    return "--step-timeout-seconds must be > 0";
  }
  if (!seconds(absl::GetFlag(FLAGS_no_worker_timeout_seconds), false)) {
    return "--no-worker-timeout-seconds must be > 0";
  }
  if (!seconds(absl::GetFlag(FLAGS_worker_wait_seconds), true)) {
    return "--worker-wait-seconds must be >= 0";
  }
  if (absl::GetFlag(FLAGS_token_budget) < 1) return "--token-budget must be >= 1";
  if (absl::GetFlag(FLAGS_default_max_tokens) < 1) return "--default-max-tokens must be >= 1";
  if (absl::GetFlag(FLAGS_min_workers) < 0) return "--min-workers must be >= 0";
  if (absl::GetFlag(FLAGS_worker_kv_pages) < 1) return "--worker-kv-pages must be >= 1";
  if (absl::GetFlag(FLAGS_worker_threads) < 0) return "--worker-threads must be >= 0";
  return "";
}

void LoadAtStart(ModelManager& models, Cluster& cluster) {
  const std::string wanted = absl::GetFlag(FLAGS_load_model);
  if (wanted.empty()) return;
  const int need = absl::GetFlag(FLAGS_min_workers);
  const int have = cluster.WaitForWorkers(
      need, std::chrono::milliseconds(
                static_cast<int64_t>(absl::GetFlag(FLAGS_worker_wait_seconds) * 1000)));
  if (have < need) {
    spdlog::warn("{} of {} workers after {} s; loading anyway", have, need,
                 absl::GetFlag(FLAGS_worker_wait_seconds));
  }
  std::vector<std::string> names;
  if (wanted == "*") {
    for (const v1::ModelInfo& m : models.List(false)) names.push_back(m.name());
  } else {
    names = SplitList(wanted);
  }
  for (const std::string& name : names) {
    absl::StatusOr<v1::ModelInfo> info = models.Load(name);
    if (!info.ok()) {
      spdlog::error("loading model {}: {}", name, info.status().ToString());
    }
  }
}

int Main() {
  if (const std::string error = FlagError(); !error.empty()) {
    std::cerr << "accllm-server: " << error << "\n";
    return 2;
  }
  std::unique_ptr<MetricsEndpoint> metrics_endpoint;
  std::unique_ptr<ServerMetrics> metrics;
  if (const std::string bind = absl::GetFlag(FLAGS_metrics_listen); !bind.empty()) {
    absl::StatusOr<std::unique_ptr<MetricsEndpoint>> started = MetricsEndpoint::Start(bind);
    if (!started.ok()) {
      std::cerr << "accllm-server: " << started.status().message() << "\n";
      return 1;
    }
    metrics_endpoint = *std::move(started);
    metrics = std::make_unique<ServerMetrics>(metrics_endpoint->registry());
  }
  const std::string repository = absl::GetFlag(FLAGS_model_repository);
  if (!std::filesystem::is_directory(repository)) {
    std::cerr << "accllm-server: --model-repository " << repository << " is not a directory\n";
    return 1;
  }

  TlsFiles public_tls;
  public_tls.cert = absl::GetFlag(FLAGS_tls_cert);
  public_tls.key = absl::GetFlag(FLAGS_tls_key);
  TlsFiles cluster_tls;
  cluster_tls.cert = absl::GetFlag(FLAGS_cluster_tls_cert);
  cluster_tls.key = absl::GetFlag(FLAGS_cluster_tls_key);
  cluster_tls.ca = absl::GetFlag(FLAGS_cluster_tls_ca);
  cluster_tls.cert_flag = "--cluster-tls-cert";
  cluster_tls.key_flag = "--cluster-tls-key";
  cluster_tls.ca_flag = "--cluster-tls-ca";
  if (cluster_tls.cert.empty() && cluster_tls.key.empty()) {
    cluster_tls.cert = public_tls.cert;
    cluster_tls.key = public_tls.key;
  }
  const std::string listen = absl::GetFlag(FLAGS_listen);
  const std::string cluster_listen = absl::GetFlag(FLAGS_cluster_listen);
  absl::StatusOr<PublicPort> public_port =
      PublicPortCredentials(listen, public_tls, absl::GetFlag(FLAGS_auth_tokens));
  if (!public_port.ok()) {
    std::cerr << "accllm-server: " << public_port.status().message() << "\n";
    return 2;
  }
  std::shared_ptr<grpc::ServerCredentials> cluster_credentials;
  if (!cluster_listen.empty()) {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> creds =
        ClusterPortCredentials(cluster_listen, cluster_tls);
    if (!creds.ok()) {
      std::cerr << "accllm-server: " << creds.status().message() << "\n";
      return 2;
    }
    cluster_credentials = *std::move(creds);
  } else if (!cluster_tls.ca.empty()) {
    // Workers on the public port would still be dialled with the cluster's TLS.
    spdlog::info("--cluster-tls-ca without --cluster-listen: workers register on the public port");
  }
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> worker_credentials =
      WorkerDialCredentials(cluster_tls);
  if (!worker_credentials.ok()) {
    std::cerr << "accllm-server: " << worker_credentials.status().message() << "\n";
    return 2;
  }
  const int32_t max_request_bytes = absl::GetFlag(FLAGS_max_request_bytes);
  const double keepalive_seconds = absl::GetFlag(FLAGS_keepalive_seconds);
  if (max_request_bytes < 1024 || !(keepalive_seconds >= 1) ||
      absl::GetFlag(FLAGS_max_prompt_tokens) < 1 || absl::GetFlag(FLAGS_max_streams) < 0 ||
      absl::GetFlag(FLAGS_max_waiting) < 0) {
    std::cerr << "accllm-server: --max-request-bytes must be >= 1024, --keepalive-seconds >= 1, "
                 "--max-prompt-tokens >= 1, --max-streams and --max-waiting >= 0\n";
    return 2;
  }

  Cluster cluster({.heartbeat_interval_seconds = absl::GetFlag(FLAGS_heartbeat_seconds),
                   .lease_seconds = absl::GetFlag(FLAGS_lease_seconds),
                   .static_workers = SplitList(absl::GetFlag(FLAGS_workers)),
                   .worker_credentials = *worker_credentials},
                  metrics.get());
  ServedModelOptions model_options;
  model_options.scheduler.token_budget = absl::GetFlag(FLAGS_token_budget);
  model_options.step_timeout_seconds = absl::GetFlag(FLAGS_step_timeout_seconds);
  model_options.no_worker_timeout_seconds = absl::GetFlag(FLAGS_no_worker_timeout_seconds);
  model_options.max_prompt_tokens = absl::GetFlag(FLAGS_max_prompt_tokens);
  auto models = std::make_unique<ModelManager>(ModelRepository(repository), model_options,
                                               cluster, metrics.get());
  models->set_default_model(absl::GetFlag(FLAGS_default_model));
  if (absl::Status scanned = models->Scan(); !scanned.ok()) {
    std::cerr << "accllm-server: " << scanned.message() << "\n";
    return 1;
  }
  Admission admission({.max_streams = absl::GetFlag(FLAGS_max_streams),
                       .max_waiting = absl::GetFlag(FLAGS_max_waiting)},
                      metrics.get());
  InferenceService inference(*models, admission,
                             {.max_tokens = absl::GetFlag(FLAGS_default_max_tokens)});
  ModelsService models_service(*models);
  ClusterService cluster_service(
      cluster, ClusterScope{.registration = cluster_listen.empty(), .operations = true});
  ClusterService registration_service(cluster,
                                      ClusterScope{.registration = true, .operations = false});

  // The local worker talks to the server over Unix sockets in a private
  // directory: it needs no certificate and no token, whatever the ports ask.
  const bool run_local_worker =
      absl::GetFlag(FLAGS_workers).empty() && absl::GetFlag(FLAGS_local_worker);
  std::unique_ptr<SocketDirectory> sockets;
  if (run_local_worker) {
    absl::StatusOr<std::unique_ptr<SocketDirectory>> made = SocketDirectory::Create();
    if (!made.ok()) {
      std::cerr << "accllm-server: " << made.status().message() << "\n";
      return 1;
    }
    sockets = *std::move(made);
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(listen, public_port->credentials, &port);
  builder.SetMaxReceiveMessageSize(max_request_bytes);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS,
                             static_cast<int>(keepalive_seconds * 1000));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // Clients may ping as often as every 10 s without being cut off.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.RegisterService(&inference);
  builder.RegisterService(&models_service);
  builder.RegisterService(&cluster_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "accllm-server: cannot listen on " << listen << "\n";
    return 1;
  }
  const std::string address = WithPort(listen, port);

  // The cluster port(s): registration and heartbeats only.
  std::unique_ptr<grpc::Server> cluster_server;
  std::string cluster_address;
  if (sockets != nullptr || !cluster_listen.empty()) {
    grpc::ServerBuilder cluster_builder;
    int cluster_port = 0;
    if (!cluster_listen.empty()) {
      cluster_builder.AddListeningPort(cluster_listen, cluster_credentials, &cluster_port);
    }
    if (sockets != nullptr) {
      cluster_builder.AddListeningPort(sockets->Address("cluster"),
                                       grpc::InsecureServerCredentials());
    }
    cluster_builder.RegisterService(&registration_service);
    cluster_server = cluster_builder.BuildAndStart();
    if (cluster_server == nullptr || (!cluster_listen.empty() && cluster_port == 0)) {
      std::cerr << "accllm-server: cannot listen on --cluster-listen " << cluster_listen << "\n";
      return 1;
    }
    if (!cluster_listen.empty()) cluster_address = WithPort(cluster_listen, cluster_port);
  }

  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  health->SetServingStatus(kInferenceService, false);  // until a model is READY
  models->set_on_ready_changed([health, &admission](bool any_ready) {
    health->SetServingStatus(kInferenceService, any_ready && !admission.draining());
  });
  models->Start();
  cluster.Start();
  spdlog::info("accllm-server serving on {} ({}{}; metrics {}; cluster {}), models from {}",
               address, public_tls.cert.empty() ? "plaintext" : "TLS",
               public_port->auth ? ", role tokens" : "",
               metrics_endpoint ? metrics_endpoint->address() : "off",
               cluster_address.empty() ? "on the public port" : cluster_address, repository);

  std::unique_ptr<LocalWorker> local;
  if (run_local_worker) {
    std::string binary = absl::GetFlag(FLAGS_worker_binary);
    if (binary.empty()) binary = SelfDirectory() + "/accllm-worker";
    local = std::make_unique<LocalWorker>(std::vector<std::string>{
        binary, "--scheduler=" + sockets->Address("cluster"),
        "--listen=" + sockets->Address("worker"),
        "--device=" + absl::GetFlag(FLAGS_worker_device),
        "--threads=" + std::to_string(absl::GetFlag(FLAGS_worker_threads)),
        "--kv_pages=" + std::to_string(absl::GetFlag(FLAGS_worker_kv_pages)),
        "--metrics_listen=" + absl::GetFlag(FLAGS_worker_metrics_listen), "--exit_with_parent"});
    local->Start();
  }
  if (const std::string ready = absl::GetFlag(FLAGS_ready_file); !ready.empty()) {
    absl::Status written = WriteReadyFile(
        ready, {{"grpc", address},
                {"metrics", metrics_endpoint ? metrics_endpoint->address() : ""},
                {"cluster", cluster_address}});
    if (!written.ok()) spdlog::error("--ready-file: {}", written.ToString());
  }
  std::thread loader([&] { LoadAtStart(*models, cluster); });

  int signal_number = WaitForTerminationSignal();
  for (; signal_number == SIGHUP; signal_number = WaitForTerminationSignal()) {
    if (public_port->auth == nullptr) {
      spdlog::info("SIGHUP: no --auth-tokens to re-read");
    } else if (absl::Status reloaded = public_port->auth->Reload(); !reloaded.ok()) {
      spdlog::error("SIGHUP: {} (the tokens in force stay)", std::string(reloaded.message()));
    }
  }
  spdlog::info("signal {}: draining (no new streams; running ones get {} s)", signal_number,
               absl::GetFlag(FLAGS_drain_seconds));
  health->SetServingStatus(kInferenceService, false);
  const int aborted = admission.Drain(std::chrono::milliseconds(
      static_cast<int64_t>(absl::GetFlag(FLAGS_drain_seconds) * 1000)));
  if (aborted > 0) spdlog::warn("{} streams were handed back unfinished", aborted);
  health->Shutdown();
  loader.join();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server->Wait();
  if (cluster_server != nullptr) {
    cluster_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    cluster_server->Wait();
  }
  models.reset();  // unloads from the workers while they still run
  local.reset();
  spdlog::info("accllm-server stopped");
  return 0;
}

}  // namespace
}  // namespace accllm

int main(int argc, char** argv) {
  accllm::ParseDaemonFlags(argc, argv,
      "accllm-server [--listen HOST:PORT] [--model-repository DIR] [--load-model NAME,...|*]\n"
      "              [--workers HOST:PORT,...] [--metrics-listen HOST:PORT] ...");
  return accllm::Main();
}
