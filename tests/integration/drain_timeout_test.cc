// SIGTERM with streams that cannot finish within --drain-seconds: they end with
// UNAVAILABLE and a message saying why (the client can retry elsewhere), and the server
// still exits 0 once the grace period is over.
#include <signal.h>

#include <atomic>
#include <thread>

#include "gtest/gtest.h"
#include "tests/integration/serving_fixture.h"  // ServingTest

namespace accllm::testing {
namespace {

class DrainTimeoutTest : public ServingTest {};

TEST_F(DrainTimeoutTest, StreamsStillRunningWhenTheDrainEndsGetUnavailable) {
  MakeTinyModel("tiny");
  auto server = StartServer("server", {"--drain-seconds=0.5"});
  ASSERT_TRUE(server->ok());
  auto c = Connect(*server);
  ASSERT_TRUE(WaitReady(*c, "tiny"));

  constexpr int kStreams = 2;
  constexpr int kTokens = 100000;  // far more than 0.5 s of generation
  std::atomic<int> received[kStreams] = {0, 0};
  absl::Status status[kStreams];
  std::vector<std::thread> streams;
  for (int i = 0; i < kStreams; ++i) {
    streams.emplace_back([&, i] {
      absl::StatusOr<client::GenerateResult> r = c->Generate(
          GreedyIds("tiny", {1, 2, 3 + i}, kTokens), [&](const v1::GenerateResponse& m) {
            received[i] += m.token_ids_size();
            return true;
          });
      status[i] = r.status();
    });
  }
  EXPECT_TRUE(Eventually([&] { return received[0].load() >= 5 && received[1].load() >= 5; }));
  server->Signal(SIGTERM);
  for (std::thread& t : streams) t.join();
  for (int i = 0; i < kStreams; ++i) {
    EXPECT_EQ(status[i].code(), absl::StatusCode::kUnavailable) << "stream " << i << ": " << status[i];
    EXPECT_NE(status[i].message().find("shut down before this stream finished"), std::string::npos)
        << status[i];
    EXPECT_GT(received[i].load(), 0);
    EXPECT_LT(received[i].load(), kTokens) << "stream " << i << " finished: nothing was cut";
  }
  EXPECT_EQ(server->Wait(std::chrono::seconds(30)), 0) << server->Log();
  EXPECT_NE(server->Log().find("2 streams were handed back unfinished"), std::string::npos)
      << server->Log();
}

}  // namespace
}  // namespace accllm::testing
