// A worker that hangs instead of dying (SIGSTOP: its sockets stay open, its step RPC never
// answers): the lease, not a failed call, takes it down, its streams continue on the other
// worker with exactly their tokens, and once it wakes up it registers again and serves.
#include <signal.h>

#include <chrono>

#include "gtest/gtest.h"
#include "tests/integration/serving_fixture.h"  // ServingTest
#include "tests/integration/worker_view.h"      // RunningOn, HasState

namespace accllm::testing {
namespace {

class HungWorkerTest : public ServingTest {};

TEST_F(HungWorkerTest, AStoppedWorkerIsDownAfterItsLeaseAndItsStreamsFinishElsewhere) {
  MakeTinyModel("tiny");
  // The step timeout stays at its default (600 s): only the lease can notice the hang.
  auto server = StartServer("server", {"--local-worker=false", "--min-workers=2",
                                       "--lease-seconds=2", "--heartbeat-seconds=0.25"});
  ASSERT_TRUE(server->ok());
  auto w1 = StartWorker("worker1", server->grpc_address());
  auto w2 = StartWorker("worker2", server->grpc_address());
  auto c = Connect(*server);
  ASSERT_TRUE(WaitReady(*c, "tiny", 2)) << server->Log();

  constexpr int kStreams = 6;
  constexpr int kTokens = 400;
  auto request = [](int i) { return GreedyIds("tiny", {1, 40 + i, 3 * i + 7}, kTokens); };
  std::vector<std::vector<int32_t>> expected(kStreams);
  for (int i = 0; i < kStreams; ++i) expected[i] = Collect(*c, request(i));

  std::vector<v1::GenerateRequest> requests;
  for (int i = 0; i < kStreams; ++i) requests.push_back(request(i));
  int held = 0;
  bool down = false;
  const ConcurrentRun run = StreamConcurrently(*c, requests, 10, [&] {
    // The worker about to hang holds streams (or there would be nothing to move).
    EXPECT_TRUE(Eventually([&] { return (held = RunningOn(*c, w1->grpc_address())) > 0; },
                           std::chrono::seconds(10)));
    w1->Signal(SIGSTOP);
    down = Eventually([&] { return HasState(*c, w1->grpc_address(), v1::WORKER_STATE_DOWN); },
                      std::chrono::seconds(20));
  });
  EXPECT_GT(held, 0) << "worker1 held no stream when it was stopped";
  EXPECT_TRUE(down) << "the hung worker was never marked down\n" << server->Log();
  EXPECT_NE(server->Log().find("is down: no heartbeat within the lease"), std::string::npos)
      << server->Log();
  EXPECT_LT(run.min_received, kTokens) << "the streams ended before the worker hung";
  EXPECT_EQ(run.finished, kStreams);
  for (int i = 0; i < kStreams; ++i) EXPECT_EQ(run.tokens[i], expected[i]) << "stream " << i;
  EXPECT_TRUE(HasState(*c, w2->grpc_address(), v1::WORKER_STATE_UP));

  // Woken up, it learns from its next heartbeat that it was forgotten, registers again and
  // serves: its stale step answer must not disturb anything.
  w1->Signal(SIGCONT);
  EXPECT_TRUE(Eventually([&] {
    std::optional<v1::WorkerStatus> w = WorkerAt(*c, w1->grpc_address());
    return w && w->state() == v1::WORKER_STATE_UP && w->models_size() > 0;
  })) << server->Log();
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(Collect(*c, GreedyIds("tiny", {1, 40 + i, 3 * i + 7}, 24)),
              std::vector<int32_t>(expected[i].begin(), expected[i].begin() + 24));
  }
}

}  // namespace
}  // namespace accllm::testing
