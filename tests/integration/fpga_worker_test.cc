// accllm-worker --device=fpga-emu serving through the whole stack: a registered emulated-card
// worker streams the tokens a CPU worker streams, a cluster of one of each serves 16
// concurrent streams, and kill -9 of the card's worker mid-stream loses and duplicates nothing.
#include <signal.h>

#include "gtest/gtest.h"
#include "tests/integration/serving_fixture.h"  // ServingTest
#include "tests/integration/worker_view.h"      // RunningOn

namespace accllm::testing {
namespace {

class FpgaWorkerTest : public ServingTest {
 protected:
  // repo/tiny-w4: the tiny synthetic model, W4 g32 A8 KV4 (RTN), which the card runs.
  void MakeQuantizedTiny() {
    MakeTinyModel("tiny-f");
    const CommandResult r = RunCommand(
        (BinDir() / "accllm").string() + " quantize --model " + (repo() / "tiny-f").string() +
        " --out " + (repo() / "tiny-w4").string() +
        " --weights w4 --group 32 --method rtn --activations a8 --kv 4 --calib-samples 1"
        " --calib-length 2 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    std::filesystem::remove_all(repo() / "tiny-f");  // the card's worker would refuse it
  }

  static v1::GenerateRequest Request(int i, int n) {
    v1::GenerateRequest r = GreedyIds("tiny-w4", {1, 7 + i, 3 * i + 2, 40 + i}, n);
    if (i % 2 == 1) {  // seeded sampling on every other stream
      r.mutable_sampling()->set_temperature(0.8f);
      r.mutable_sampling()->set_seed(100 + i);
    }
    return r;
  }

  // Each request's tokens from a server whose only worker runs on `device`.
  std::vector<std::vector<int32_t>> ServeAlone(const std::string& device, int streams, int n) {
    auto server = StartServer("server-" + device, {"--local-worker=false"});
    auto worker = StartWorker("worker-" + device, server->grpc_address(),
                              {"--device=" + device});
    auto c = Connect(*server);
    EXPECT_TRUE(WaitReady(*c, "tiny-w4")) << server->Log() << worker->Log();
    absl::StatusOr<std::vector<v1::WorkerStatus>> workers = c->ListWorkers();
    EXPECT_TRUE(workers.ok() && workers->size() == 1);
    if (workers.ok() && workers->size() == 1) {
      EXPECT_EQ(workers->at(0).device(), device);
    }
    std::vector<std::vector<int32_t>> out(streams);
    for (int i = 0; i < streams; ++i) out[i] = Collect(*c, Request(i, n));
    if (device == "fpga-emu") {
      // The card counted its work: HBM bytes and one launch per step, on the worker's
      // /metrics and in the cluster's view.
      const std::string metrics = HttpGet(worker->metrics_address(), "/metrics");
      EXPECT_GT(MetricSum(metrics, "accllm_worker_device_read_bytes_total"), 0) << metrics;
      EXPECT_EQ(MetricSum(metrics, "accllm_worker_device_launches_total"),
                MetricSum(metrics, "accllm_worker_steps_total"))
          << metrics;
      EXPECT_GT(MetricSum(metrics, "accllm_worker_device_kernel_seconds_total"), 0) << metrics;
      EXPECT_TRUE(Eventually([&] {  // heartbeats carry the counters to the server
        absl::StatusOr<std::vector<v1::WorkerStatus>> now = c->ListWorkers();
        return now.ok() && now->size() == 1 && now->at(0).backend() == "fpga-emu" &&
               now->at(0).device_counters().launches() > 0 &&
               now->at(0).device_counters().bytes_read() > 0;
      }));
    }
    return out;
  }
};

TEST_F(FpgaWorkerTest, TheEmulatedCardStreamsWhatTheCpuStreams) {
  MakeQuantizedTiny();
  const auto cpu = ServeAlone("cpu", 4, 24);
  const auto card = ServeAlone("fpga-emu", 4, 24);
  ASSERT_EQ(cpu.size(), 4u);
  for (size_t i = 0; i < cpu.size(); ++i) {
    EXPECT_EQ(cpu[i].size(), 24u);
    EXPECT_EQ(card[i], cpu[i]) << "stream " << i;
  }
}

TEST_F(FpgaWorkerTest, KillingTheCardsWorkerMidStreamLosesAndDuplicatesNothing) {
  MakeQuantizedTiny();
  constexpr int kStreams = 16;
  constexpr int kTokens = 160;
  const auto expected = ServeAlone("cpu", kStreams, kTokens);

  auto server = StartServer("server", {"--local-worker=false", "--min-workers=2"});
  ASSERT_TRUE(server->ok());
  auto cpu = StartWorker("cpu-worker", server->grpc_address());
  auto card = StartWorker("card-worker", server->grpc_address(), {"--device=fpga-emu"});
  auto c = Connect(*server);
  ASSERT_TRUE(WaitReady(*c, "tiny-w4", 2)) << server->Log();

  std::vector<v1::GenerateRequest> requests;
  for (int i = 0; i < kStreams; ++i) requests.push_back(Request(i, kTokens));
  // Every stream under way (on both workers) before the card's worker dies.
  int held = 0;  // streams the card's worker runs when it dies
  const ConcurrentRun run = StreamConcurrently(*c, requests, 8, [&] {
    EXPECT_TRUE(Eventually([&] { return (held = RunningOn(*c, card->grpc_address())) > 0; },
                           std::chrono::seconds(10)));
    card->Signal(SIGKILL);
  });
  EXPECT_GT(held, 0) << "the card's worker held no stream when it was killed";
  EXPECT_LT(run.min_received, kTokens) << "the streams ended before the worker was killed";
  EXPECT_EQ(run.finished, kStreams);
  for (int i = 0; i < kStreams; ++i) EXPECT_EQ(run.tokens[i], expected[i]) << "stream " << i;
}

TEST_F(FpgaWorkerTest, ACardWorkerRefusesAFloatModelWithTheReason) {
  MakeTinyModel("tiny");
  auto server = StartServer("server", {"--local-worker=false"});
  auto worker = StartWorker("card", server->grpc_address(), {"--device=fpga-emu"});
  auto c = Connect(*server);
  ASSERT_TRUE(Eventually([&] {
    absl::StatusOr<v1::ModelInfo> m = c->GetModel("tiny");
    return m.ok() && m->reason().find("float model") != std::string::npos;
  })) << server->Log();
}

}  // namespace
}  // namespace accllm::testing
