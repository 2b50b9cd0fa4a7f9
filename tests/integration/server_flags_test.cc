// accllm-server with flags it cannot run with: it exits non-zero at once, before serving
// anything, with a message that names the flag.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/integration/serving_fixture.h"  // ServingTest

namespace accllm::testing {
namespace {

class ServerFlagsTest : public ServingTest {
 protected:
  // Runs accllm-server with valid defaults and then `flags` (later ones win); bounded by
  // `timeout`, so a server that accepts a bad flag and serves fails the test instead of
  // hanging it.
  CommandResult RunServer(const std::string& flags) {
    std::filesystem::create_directories(repo());
    return RunCommand("timeout 20 " + (BinDir() / "accllm-server").string() +
                      " --listen=127.0.0.1:0 --metrics-listen=127.0.0.1:0 --local-worker=false"
                      " --load-model= --model-repository=" + repo().string() + " " + flags);
  }
};

struct BadFlag {
  std::string flags;
  std::string words;  // what the message must say (the flag)
};

TEST_F(ServerFlagsTest, BadValuesExitNonZeroNamingTheFlag) {
  const std::vector<BadFlag> cases = {
      {"--workers=worker-host", "--workers"},
      {"--workers=127.0.0.1:0", "--workers"},
      {"--workers=127.0.0.1:50000,:6000", "--workers"},
      {"--workers=127.0.0.1:http", "--workers"},
      {"--listen=nowhere", "--listen"},
      {"--listen=127.0.0.1:70000", "--listen"},
      {"--metrics-listen=metrics", "--metrics-listen"},
      {"--cluster-listen=127.0.0.1", "--cluster-listen"},
      {"--model-repository=" + (dir_ / "absent").string(), "--model-repository"},
      {"--model-repository=", "--model-repository"},
      {"--drain-seconds=-1", "--drain-seconds"},
      {"--drain-seconds=nan", "--drain-seconds"},
      {"--drain-seconds=soon", "drain_seconds"},  // absl's parser names it so
      {"--lease-seconds=0", "--lease-seconds"},
      {"--heartbeat-seconds=10", "--heartbeat-seconds"},  // not below the 5 s lease
      {"--token-budget=0", "--token-budget"},
      {"--default-max-tokens=-3", "--default-max-tokens"},
      {"--step-timeout-seconds=0", "--step-timeout-seconds"},
      {"--no-such-flag=1", "no_such_flag"},
  };
  for (const BadFlag& bad : cases) {
    const CommandResult r = RunServer(bad.flags);
    EXPECT_NE(r.exit_code, 0) << bad.flags;
    EXPECT_NE(r.exit_code, 124) << bad.flags << ": the server started serving";
    EXPECT_NE(r.err.find(bad.words), std::string::npos) << bad.flags << ": " << r.err;
  }
}

TEST_F(ServerFlagsTest, APortInUseIsNamed) {
  // A plain socket without SO_REUSEPORT holds the port, so gRPC cannot share it.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string address = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  const CommandResult r = RunServer("--listen=" + address);
  close(fd);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.exit_code, 124) << "the server started serving on a port in use";
  EXPECT_NE(r.err.find(address), std::string::npos) << r.err;
}

}  // namespace
}  // namespace accllm::testing
