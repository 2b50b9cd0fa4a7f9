// `accllm health` (the image's HEALTHCHECK) against a real server and worker,
// and against an address where nothing listens.
#include <chrono>

#include "gtest/gtest.h"
#include "tests/integration/serving_fixture.h"  // ServingTest, FreePort

namespace accllm::testing {
namespace {

class HealthCommandTest : public ServingTest {};

TEST_F(HealthCommandTest, PrintsTheStatusAndExitsZeroOnlyWhenServing) {
  MakeTinyModel("tiny");
  auto server = StartServer("server", {"--local-worker=false", "--load-model="});
  ASSERT_TRUE(server->ok());
  const std::string at = " --server " + server->grpc_address();
  // No model loaded yet: the process serves, inference does not.
  CommandResult whole = RunAccllm("health" + at);
  EXPECT_EQ(whole.exit_code, 0) << whole.err;
  EXPECT_EQ(whole.out, "SERVING\n");
  CommandResult inference = RunAccllm("health" + at + " --service accllm.v1.Inference");
  EXPECT_EQ(inference.exit_code, 1);
  EXPECT_EQ(inference.out, "NOT_SERVING\n");
  EXPECT_NE(inference.err.find("is NOT_SERVING"), std::string::npos) << inference.err;

  auto worker = StartWorker("worker", server->grpc_address());
  auto c = Connect(*server);
  ASSERT_TRUE(c->LoadModel("tiny").ok());
  ASSERT_TRUE(WaitReady(*c, "tiny"));
  inference = RunAccllm("health" + at + " --service accllm.v1.Inference");
  EXPECT_EQ(inference.exit_code, 0) << inference.err;
  EXPECT_EQ(inference.out, "SERVING\n");
  // A worker container's healthcheck asks the worker itself.
  const CommandResult at_worker = RunAccllm("health --server " + worker->grpc_address());
  EXPECT_EQ(at_worker.exit_code, 0) << at_worker.err;

  const CommandResult unknown = RunAccllm("health" + at + " --service no.such.Service");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.out, "SERVICE_UNKNOWN\n");
  EXPECT_NE(unknown.err.find("no.such.Service"), std::string::npos) << unknown.err;
  const CommandResult extra = RunAccllm("health" + at + " extra");
  EXPECT_EQ(extra.exit_code, 2);
  EXPECT_NE(extra.err.find("unexpected argument"), std::string::npos) << extra.err;
}

TEST_F(HealthCommandTest, AnUnreachableServerFailsWithinTheTimeout) {
  const std::string address = "127.0.0.1:" + std::to_string(FreePort());
  const auto start = std::chrono::steady_clock::now();
  const CommandResult r = RunAccllm("health --server " + address + " --connect-timeout 2");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("health check of " + address + " failed"), std::string::npos) << r.err;
  EXPECT_LT(seconds, 6.0);
  const CommandResult bad = RunAccllm("health --server " + address + " --connect-timeout 0");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--connect-timeout"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace accllm::testing
