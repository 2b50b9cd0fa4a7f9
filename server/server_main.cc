// accllm-server: the scheduler daemon. Serves accllm.v1.{Inference, Models,
// Cluster}, grpc.health.v1 and reflection on --listen, Prometheus metrics on
// --metrics-listen; runs the models of --model-repository on the workers that
// register with it (by default one local accllm-worker child it supervises).
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
#include "grpcpp/server_builder.h"                      // grpc::ServerBuilder
#include "server/admission.h"                           // Admission
#include "server/cluster.h"                             // Cluster
#include "server/control_services.h"                    // ModelsService, ClusterService
#include "server/inference_service.h"                   // InferenceService
#include "server/local_worker.h"                        // LocalWorker
#include "server/model_manager.h"                       // ModelManager
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
ABSL_FLAG(std::string, ready_file, "", "once listening, write {\"grpc\":..., \"metrics\":...} here");

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

  Cluster cluster({.heartbeat_interval_seconds = absl::GetFlag(FLAGS_heartbeat_seconds),
                   .lease_seconds = absl::GetFlag(FLAGS_lease_seconds),
                   .static_workers = SplitList(absl::GetFlag(FLAGS_workers))},
                  metrics.get());
  ServedModelOptions model_options;
  model_options.scheduler.token_budget = absl::GetFlag(FLAGS_token_budget);
  model_options.step_timeout_seconds = absl::GetFlag(FLAGS_step_timeout_seconds);
  model_options.no_worker_timeout_seconds = absl::GetFlag(FLAGS_no_worker_timeout_seconds);
  auto models = std::make_unique<ModelManager>(ModelRepository(repository), model_options,
                                               cluster, metrics.get());
  models->set_default_model(absl::GetFlag(FLAGS_default_model));
  if (absl::Status scanned = models->Scan(); !scanned.ok()) {
    std::cerr << "accllm-server: " << scanned.message() << "\n";
    return 1;
  }
  Admission admission;
  InferenceService inference(*models, admission,
                             {.max_tokens = absl::GetFlag(FLAGS_default_max_tokens)});
  ModelsService models_service(*models);
  ClusterService cluster_service(cluster);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen), grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&inference);
  builder.RegisterService(&models_service);
  builder.RegisterService(&cluster_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::cerr << "accllm-server: cannot listen on " << absl::GetFlag(FLAGS_listen) << "\n";
    return 1;
  }
  const std::string address = WithPort(absl::GetFlag(FLAGS_listen), port);
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  health->SetServingStatus(kInferenceService, false);  // until a model is READY
  models->set_on_ready_changed([health, &admission](bool any_ready) {
    health->SetServingStatus(kInferenceService, any_ready && !admission.draining());
  });
  models->Start();
  cluster.Start();
  spdlog::info("accllm-server serving on {} (metrics {}), models from {}", address,
               metrics_endpoint ? metrics_endpoint->address() : "off", repository);

  std::unique_ptr<LocalWorker> local;
  if (absl::GetFlag(FLAGS_workers).empty() && absl::GetFlag(FLAGS_local_worker)) {
    std::string binary = absl::GetFlag(FLAGS_worker_binary);
    if (binary.empty()) binary = SelfDirectory() + "/accllm-worker";
    local = std::make_unique<LocalWorker>(std::vector<std::string>{
        binary, "--scheduler=" + address, "--listen=127.0.0.1:0",
        "--device=" + absl::GetFlag(FLAGS_worker_device),
        "--threads=" + std::to_string(absl::GetFlag(FLAGS_worker_threads)),
        "--kv_pages=" + std::to_string(absl::GetFlag(FLAGS_worker_kv_pages)),
        "--metrics_listen=" + absl::GetFlag(FLAGS_worker_metrics_listen), "--exit_with_parent"});
    local->Start();
  }
  if (const std::string ready = absl::GetFlag(FLAGS_ready_file); !ready.empty()) {
    absl::Status written = WriteReadyFile(
        ready, {{"grpc", address},
                {"metrics", metrics_endpoint ? metrics_endpoint->address() : ""}});
    if (!written.ok()) spdlog::error("--ready-file: {}", written.ToString());
  }
  std::thread loader([&] { LoadAtStart(*models, cluster); });

  const int signal_number = WaitForTerminationSignal();
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
