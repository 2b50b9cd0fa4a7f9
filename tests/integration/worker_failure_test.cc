// Worker processes failing under load: streams move to the surviving worker
// and finish with exactly the tokens they would have produced.
#include <signal.h>

#include <atomic>
#include <thread>

#include "gtest/gtest.h"
#include "grpcpp/create_channel.h"              // grpc::CreateChannel
#include "grpcpp/security/credentials.h"        // grpc::InsecureChannelCredentials
#include "accllm/v1/worker.grpc.pb.h"           // v1::Worker::Stub
#include "tests/integration/serving_fixture.h"  // ServingTest
#include "tests/integration/worker_view.h"      // RunningOn

namespace accllm::testing {
namespace {

class WorkerFailureTest : public ServingTest {};

TEST_F(WorkerFailureTest, KillingOneOfTwoWorkersMidStreamLosesAndDuplicatesNothing) {
  MakeTinyModel("tiny");
  auto server = StartServer("server", {"--local-worker=false", "--min-workers=2"});
  ASSERT_TRUE(server->ok());
  auto w1 = StartWorker("worker1", server->grpc_address());
  auto w2 = StartWorker("worker2", server->grpc_address());
  auto c = Connect(*server);
  ASSERT_TRUE(WaitReady(*c, "tiny", 2)) << server->Log();

  constexpr int kStreams = 8;
  constexpr int kTokens = 600;
  auto request = [](int i) { return GreedyIds("tiny", {1, 30 + i, 4 * i + 2}, kTokens); };
  // References, one at a time before anything fails.
  std::vector<std::vector<int32_t>> expected(kStreams);
  for (int i = 0; i < kStreams; ++i) expected[i] = Collect(*c, request(i));

  std::vector<v1::GenerateRequest> requests;
  for (int i = 0; i < kStreams; ++i) requests.push_back(request(i));
  int held = 0;  // streams worker1 runs when it dies
  const ConcurrentRun run = StreamConcurrently(*c, requests, 20, [&] {
    EXPECT_TRUE(Eventually([&] { return (held = RunningOn(*c, w1->grpc_address())) > 0; },
                           std::chrono::seconds(10)));
    w1->Signal(SIGKILL);
  });
  EXPECT_GT(held, 0) << "worker1 held no stream when it was killed: nothing was recomputed";
  EXPECT_LT(run.min_received, kTokens) << "the streams ended before the worker was killed";
  EXPECT_EQ(run.finished, kStreams);
  for (int i = 0; i < kStreams; ++i) EXPECT_EQ(run.tokens[i], expected[i]) << "stream " << i;
  absl::StatusOr<std::vector<v1::WorkerStatus>> workers = c->ListWorkers();
  ASSERT_TRUE(workers.ok());
  int down = 0;
  for (const v1::WorkerStatus& w : *workers) down += w.state() == v1::WORKER_STATE_DOWN;
  EXPECT_EQ(down, 1);
  const std::string metrics = HttpGet(server->metrics_address(), "/metrics");
  EXPECT_EQ(MetricSum(metrics, "accllm_worker_up"), 1) << metrics;
}

// A reload just after a worker died (before any lease or step noticed) says
// nothing about the model: the dead worker is marked DOWN, the new version goes
// READY on the survivor, and a worker that registers afterwards gets it.
TEST_F(WorkerFailureTest, AReloadAsAWorkerDiesLoadsOnTheRestAndLaterWorkersGetIt) {
  MakeTinyModel("tiny");
  auto server = StartServer("server", {"--local-worker=false", "--min-workers=2"});
  ASSERT_TRUE(server->ok());
  auto w1 = StartWorker("worker1", server->grpc_address());
  auto w2 = StartWorker("worker2", server->grpc_address());
  auto c = Connect(*server);
  ASSERT_TRUE(WaitReady(*c, "tiny", 2)) << server->Log();

  w1->Signal(SIGKILL);
  w1->Wait(std::chrono::seconds(10));
  absl::StatusOr<v1::ModelInfo> reloaded = c->LoadModel("tiny");
  ASSERT_TRUE(reloaded.ok()) << reloaded.status() << server->Log();
  EXPECT_EQ(reloaded->version(), 2);
  EXPECT_TRUE(HasState(*c, w1->grpc_address(), v1::WORKER_STATE_DOWN));
  EXPECT_EQ(Collect(*c, GreedyIds("tiny", {1, 2}, 5)).size(), 5u);

  auto w3 = StartWorker("worker3", server->grpc_address());
  EXPECT_TRUE(Eventually([&] {
    std::optional<v1::WorkerStatus> w = WorkerAt(*c, w3->grpc_address());
    if (!w || w->state() != v1::WORKER_STATE_UP) return false;
    for (const std::string& m : w->models()) {
      if (m == "tiny@2") return true;
    }
    return false;
  })) << server->Log();
}

TEST_F(WorkerFailureTest, StaticallyConfiguredWorkersServeAndAreProbedBack) {
  MakeTinyModel("tiny");
  // A worker started with --listen only, named to the server by --workers.
  auto worker = std::make_unique<Daemon>(
      "static-worker", BinDir() / "accllm-worker",
      std::vector<std::string>{"--device=cpu", "--threads=1", "--kv-pages=256",
                               "--ready-file=" + (dir_ / "static.ready").string()},
      dir_.path(), dir_ / "static.ready");
  ASSERT_TRUE(worker->ok()) << worker->Log();
  auto server = StartServer("server", {"--workers=" + worker->grpc_address(), "--lease-seconds=2"});
  ASSERT_TRUE(server->ok());
  auto c = Connect(*server);
  ASSERT_TRUE(WaitReady(*c, "tiny")) << server->Log();
  EXPECT_EQ(Collect(*c, GreedyIds("tiny", {1, 2, 3}, 12)).size(), 12u);
  absl::StatusOr<std::vector<v1::WorkerStatus>> workers = c->ListWorkers();
  ASSERT_TRUE(workers.ok());
  ASSERT_EQ(workers->size(), 1u);  // no local worker when --workers is given
  EXPECT_EQ(workers->at(0).address(), worker->grpc_address());
  EXPECT_TRUE(Eventually([&] {  // the pool gauges refresh every 250 ms
    absl::StatusOr<std::vector<v1::WorkerStatus>> now = c->ListWorkers();
    return now.ok() && now->size() == 1 && now->at(0).kv_pages_total() == 256;
  }));
  // Probes keep it alive past the lease.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  workers = c->ListWorkers();
  ASSERT_TRUE(workers.ok());
  EXPECT_EQ(workers->at(0).state(), v1::WORKER_STATE_UP);
  EXPECT_EQ(Collect(*c, GreedyIds("tiny", {1, 2, 3}, 12)).size(), 12u);
}

TEST_F(WorkerFailureTest, TheLocalWorkerIsRestartedWhenItDies) {
  MakeTinyModel("tiny");
  auto server = StartServer("server");
  ASSERT_TRUE(server->ok());
  auto c = Connect(*server);
  ASSERT_TRUE(WaitReady(*c, "tiny"));
  const std::vector<int32_t> before = Collect(*c, GreedyIds("tiny", {1, 2, 3}, 16));
  absl::StatusOr<std::vector<v1::WorkerStatus>> workers = c->ListWorkers();
  ASSERT_TRUE(workers.ok() && workers->size() == 1);
  // Its pid, from its /proc entry: the child of the server listening there.
  const CommandResult pid = RunCommand("pgrep -P " + std::to_string(server->pid()) + " accllm-worker");
  ASSERT_EQ(pid.exit_code, 0) << pid.err;
  ASSERT_EQ(kill(std::stoi(pid.out), SIGKILL), 0);
  ASSERT_TRUE(Eventually([&] {
    absl::StatusOr<std::vector<v1::WorkerStatus>> now = c->ListWorkers();
    if (!now.ok()) return false;
    int up = 0;
    for (const v1::WorkerStatus& w : *now) up += w.state() == v1::WORKER_STATE_UP && w.models_size() > 0;
    return up == 1;
  })) << server->Log();
  EXPECT_EQ(Collect(*c, GreedyIds("tiny", {1, 2, 3}, 16)), before);
}

TEST_F(WorkerFailureTest, WorkerDeviceSelectionFallsBackToTheCpuOnlyForAuto) {
  const CommandResult fpga = RunCommand((BinDir() / "accllm-worker").string() + " --device=fpga:0");
  EXPECT_NE(fpga.exit_code, 0);
  EXPECT_NE(fpga.err.find("fpga:0"), std::string::npos) << fpga.err;
  const CommandResult bad = RunCommand((BinDir() / "accllm-worker").string() + " --device=tpu");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("auto, cpu, fpga-emu or fpga:N"), std::string::npos) << bad.err;
  // A card needs its kernel: a missing xclbin is named before any card is touched.
  const CommandResult no_file = RunCommand((BinDir() / "accllm-worker").string() +
                                           " --device=fpga:0 --xclbin=/nonexistent.xclbin");
  EXPECT_NE(no_file.exit_code, 0);
  EXPECT_NE(no_file.err.find("/nonexistent.xclbin"), std::string::npos) << no_file.err;
  auto worker = std::make_unique<Daemon>(
      "auto", BinDir() / "accllm-worker",
      std::vector<std::string>{"--device=auto", "--ready-file=" + (dir_ / "auto.ready").string()},
      dir_.path(), dir_ / "auto.ready");
  ASSERT_TRUE(worker->ok()) << worker->Log();
  EXPECT_NE(worker->Log().find("running on the CPU"), std::string::npos) << worker->Log();
  auto stub = v1::Worker::NewStub(
      grpc::CreateChannel(worker->grpc_address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  v1::WorkerInfoResponse info;
  ASSERT_TRUE(stub->Info(&context, {}, &info).ok());
  EXPECT_EQ(info.device(), "cpu");
  EXPECT_EQ(info.backend().rfind("cpu/", 0), 0u) << info.backend();
  worker->Signal(SIGTERM);
  EXPECT_EQ(worker->Wait(std::chrono::seconds(10)), 0);
}

TEST_F(WorkerFailureTest, AWorkerRejectsMalformedStepsAndKeepsServing) {
  MakeTinyModel("tiny");
  auto worker = std::make_unique<Daemon>(
      "worker", BinDir() / "accllm-worker",
      std::vector<std::string>{"--device=cpu", "--kv-pages=8",
                               "--ready-file=" + (dir_ / "w.ready").string()},
      dir_.path(), dir_ / "w.ready");
  ASSERT_TRUE(worker->ok()) << worker->Log();
  auto stub = v1::Worker::NewStub(
      grpc::CreateChannel(worker->grpc_address(), grpc::InsecureChannelCredentials()));
  auto call_load = [&](const std::string& path, int64_t version) {
    grpc::ClientContext context;
    v1::WorkerLoadModelRequest r;
    r.set_name("tiny");
    r.set_path(path);
    r.set_version(version);
    v1::WorkerLoadModelResponse response;
    return stub->LoadModel(&context, r, &response);
  };
  grpc::Status missing = call_load((dir_ / "nowhere").string(), 1);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND) << missing.error_message();
  grpc::Status version0 = call_load((repo() / "tiny").string(), 0);
  EXPECT_EQ(version0.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << version0.error_message();
  EXPECT_NE(version0.error_message().find("version"), std::string::npos) << version0.error_message();
  ASSERT_TRUE(call_load((repo() / "tiny").string(), 1).ok());
  auto step = [&](auto edit) {
    v1::StepRequest r;
    r.set_model("tiny");
    r.set_version(1);
    r.set_page_tokens(16);
    v1::SequenceChunk* chunk = r.add_chunks();
    chunk->set_sequence_id(1);
    chunk->add_tokens(1);
    chunk->add_tokens(5);
    chunk->mutable_attention()->mutable_dense();
    v1::PageRef* page = chunk->add_pages();
    page->set_logical(0);
    page->set_physical(3);
    chunk->set_sample(true);
    chunk->set_sample_index(2);
    edit(r);
    grpc::ClientContext context;
    v1::StepResponse response;
    grpc::Status s = stub->Step(&context, r, &response);
    return std::make_pair(s, response);
  };
  auto [good, response] = step([](v1::StepRequest&) {});
  ASSERT_TRUE(good.ok()) << good.error_message();
  ASSERT_EQ(response.sampled_size(), 1);
  const std::vector<std::pair<std::string, std::function<void(v1::StepRequest&)>>> bad = {
      {"physical page 99", [](v1::StepRequest& r) { r.mutable_chunks(0)->mutable_pages(0)->set_physical(99); }},
      {"token 9999", [](v1::StepRequest& r) { r.mutable_chunks(0)->set_tokens(0, 9999); }},
      {"page_tokens", [](v1::StepRequest& r) { r.set_page_tokens(7); }},
      {"not loaded", [](v1::StepRequest& r) { r.set_version(5); }},
      {"sample_index", [](v1::StepRequest& r) { r.mutable_chunks(0)->set_sample_index(9); }},
      {"temperature", [](v1::StepRequest& r) { r.mutable_chunks(0)->mutable_sampling()->set_temperature(-2); }},
      {"attention", [](v1::StepRequest& r) { r.mutable_chunks(0)->clear_attention(); }},
  };
  for (const auto& [words, edit] : bad) {
    auto [status, ignored] = step(edit);
    EXPECT_EQ(status.error_code(), words == "not loaded" ? grpc::StatusCode::NOT_FOUND
                                                         : grpc::StatusCode::INVALID_ARGUMENT)
        << words << ": " << status.error_message();
    EXPECT_NE(status.error_message().find(words), std::string::npos) << status.error_message();
  }
  auto [again, response2] = step([](v1::StepRequest&) {});
  EXPECT_TRUE(again.ok()) << again.error_message();
  EXPECT_EQ(response2.sampled(0).token(), response.sampled(0).token());
}

}  // namespace
}  // namespace accllm::testing
