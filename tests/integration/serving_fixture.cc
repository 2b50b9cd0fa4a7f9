#include "tests/integration/serving_fixture.h"

#include <atomic>
#include <limits>
#include <thread>

#include "gtest/gtest.h"
#include "grpcpp/create_channel.h"                   // grpc::CreateChannel
#include "grpcpp/security/credentials.h"             // grpc::InsecureChannelCredentials
#include "integration/health.grpc.pb.h"  // grpc::health::v1::Health (generated)

namespace accllm::testing {

void ServingTest::MakeTinyModel(const std::string& name, uint64_t seed) {
  const CommandResult r = RunCommand((BinDir() / "accllm").string() + " synth --shape tiny --seed " +
                                     std::to_string(seed) + " --out " + (repo() / name).string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

bool ServingTest::MakeStories260K(const std::string& name) {
  std::optional<std::filesystem::path> dir = Stories260KDir();
  if (!dir) return false;
  const CommandResult r = RunCommand((BinDir() / "accllm").string() + " convert --from llama2c --in " +
                                     (*dir / "stories260K.bin").string() + " --out " +
                                     (repo() / name).string());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0;
}

std::unique_ptr<Daemon> ServingTest::StartServer(const std::string& name,
                                                 std::vector<std::string> args) {
  std::filesystem::create_directories(repo());
  std::vector<std::string> all = {"--listen=127.0.0.1:0", "--metrics-listen=127.0.0.1:0",
                                  "--ready-file=" + (dir_ / (name + ".ready")).string(),
                                  "--model-repository=" + repo().string(),
                                  "--worker-threads=1", "--worker-kv-pages=512"};
  all.insert(all.end(), args.begin(), args.end());
  auto d = std::make_unique<Daemon>(name, BinDir() / "accllm-server", all, dir_.path(),
                                    dir_ / (name + ".ready"));
  EXPECT_TRUE(d->ok()) << d->Log();
  return d;
}

std::unique_ptr<Daemon> ServingTest::StartWorker(const std::string& name,
                                                 const std::string& scheduler,
                                                 std::vector<std::string> args) {
  std::vector<std::string> all = {"--listen=127.0.0.1:0", "--metrics-listen=127.0.0.1:0",
                                  "--scheduler=" + scheduler, "--device=cpu", "--threads=1",
                                  "--kv-pages=512",
                                  "--ready-file=" + (dir_ / (name + ".ready")).string()};
  all.insert(all.end(), args.begin(), args.end());
  auto d = std::make_unique<Daemon>(name, BinDir() / "accllm-worker", all, dir_.path(),
                                    dir_ / (name + ".ready"));
  EXPECT_TRUE(d->ok()) << d->Log();
  return d;
}

std::unique_ptr<client::Client> ServingTest::Connect(const Daemon& server) {
  absl::StatusOr<std::unique_ptr<client::Client>> c = client::Client::Connect(server.grpc_address());
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *std::move(c) : nullptr;
}

bool ServingTest::WaitReady(client::Client& c, const std::string& model, int workers) {
  return Eventually([&] {
    absl::StatusOr<v1::ModelInfo> info = c.GetModel(model);
    return info.ok() && info->state() == v1::MODEL_STATE_READY && info->workers_size() >= workers;
  }, std::chrono::seconds(60));
}

v1::GenerateRequest ServingTest::GreedyIds(const std::string& model, std::vector<int32_t> prompt,
                                           int n) {
  v1::GenerateRequest r;
  r.set_model(model);
  r.mutable_token_ids()->mutable_ids()->Add(prompt.begin(), prompt.end());
  r.mutable_sampling()->set_temperature(0);
  r.set_max_tokens(n);
  r.set_ignore_eos(true);
  r.mutable_attention()->mutable_lambda()->set_sinks(4);
  r.mutable_attention()->mutable_lambda()->set_window(64);
  return r;
}

std::vector<int32_t> ServingTest::Collect(client::Client& c, const v1::GenerateRequest& request,
                                          v1::FinishReason* reason) {
  std::vector<int32_t> ids;
  absl::StatusOr<client::GenerateResult> result =
      c.Generate(request, [&](const v1::GenerateResponse& m) {
        ids.insert(ids.end(), m.token_ids().begin(), m.token_ids().end());
        return true;
      });
  EXPECT_TRUE(result.ok()) << result.status();
  if (!result.ok()) return {};
  if (reason != nullptr) *reason = result->finish_reason;
  return ids;
}

std::string HealthStatus(const std::string& address, const std::string& service,
                         std::shared_ptr<grpc::ChannelCredentials> credentials) {
  if (credentials == nullptr) credentials = grpc::InsecureChannelCredentials();
  auto stub = grpc::health::v1::Health::NewStub(grpc::CreateChannel(address, credentials));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) {
    return status.error_code() == grpc::StatusCode::NOT_FOUND ? "SERVICE_UNKNOWN"
                                                               : status.error_message();
  }
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
}

ServingTest::ConcurrentRun ServingTest::StreamConcurrently(
    client::Client& c, const std::vector<v1::GenerateRequest>& requests, int min_tokens,
    const std::function<void()>& mid_stream) {
  const size_t n = requests.size();
  ConcurrentRun run;
  run.tokens.resize(n);
  std::vector<std::atomic<int>> received(n);
  std::atomic<int> finished = 0;
  std::vector<std::thread> threads;
  for (size_t i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<client::GenerateResult> result =
          c.Generate(requests[i], [&](const v1::GenerateResponse& m) {
            run.tokens[i].insert(run.tokens[i].end(), m.token_ids().begin(), m.token_ids().end());
            received[i] += m.token_ids_size();
            return true;
          });
      EXPECT_TRUE(result.ok()) << result.status();
      if (result.ok() && result->finish_reason == v1::FINISH_REASON_LENGTH) ++finished;
    });
  }
  // Every stream under way before the event.
  EXPECT_TRUE(Eventually([&] {
    for (const std::atomic<int>& r : received) {
      if (r.load() < min_tokens) return false;
    }
    return true;
  }));
  run.min_received = std::numeric_limits<int>::max();
  for (const std::atomic<int>& r : received) run.min_received = std::min(run.min_received, r.load());
  mid_stream();
  for (std::thread& t : threads) t.join();
  run.finished = finished.load();
  return run;
}

}  // namespace accllm::testing
