// SIGTERM: accllm-server stops admitting, lets running streams finish, exits 0.
#include <signal.h>

#include <atomic>
#include <thread>

#include "gtest/gtest.h"
#include "tests/integration/serving_fixture.h"  // ServingTest

namespace accllm::testing {
namespace {

class DrainTest : public ServingTest {};

TEST_F(DrainTest, SigtermFinishesRunningStreamsRefusesNewOnesAndExits) {
  MakeTinyModel("tiny");
  auto server = StartServer("server");
  ASSERT_TRUE(server->ok());
  auto c = Connect(*server);
  ASSERT_TRUE(WaitReady(*c, "tiny"));
  std::atomic<int> received = 0;
  std::vector<int32_t> ids;
  v1::FinishReason reason = v1::FINISH_REASON_UNSPECIFIED;
  std::thread stream([&] {
    absl::StatusOr<client::GenerateResult> r =
        c->Generate(GreedyIds("tiny", {1, 2, 3}, 1500), [&](const v1::GenerateResponse& m) {
          ids.insert(ids.end(), m.token_ids().begin(), m.token_ids().end());
          received += m.token_ids_size();
          return true;
        });
    ASSERT_TRUE(r.ok()) << r.status();
    reason = r->finish_reason;
  });
  ASSERT_TRUE(Eventually([&] { return received.load() >= 10; }));
  server->Signal(SIGTERM);
  ASSERT_TRUE(Eventually([&] {
    return HealthStatus(server->grpc_address(), "accllm.v1.Inference") != "SERVING";
  }));
  absl::StatusOr<std::unique_ptr<client::Client>> late =
      client::Client::Connect(server->grpc_address());
  if (late.ok()) {
    absl::StatusOr<client::GenerateResult> refused = (*late)->Generate(
        GreedyIds("tiny", {1}, 4), [](const v1::GenerateResponse&) { return true; });
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable) << refused.status();
  }
  stream.join();
  EXPECT_EQ(reason, v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(ids.size(), 1500u);
  EXPECT_EQ(server->Wait(std::chrono::seconds(30)), 0) << server->Log();
  EXPECT_NE(server->Log().find("accllm-server stopped"), std::string::npos);
}

}  // namespace
}  // namespace accllm::testing
