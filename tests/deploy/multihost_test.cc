// accllm-server and two accllm-workers as separate hosts (network namespaces
// on a test bridge): the workers register over that network, 64 streams run,
// and one worker's host disappears mid-stream (processes killed, namespace and
// link deleted) without a token lost or changed.
#include <signal.h>

#include <map>
#include <set>

#include "gtest/gtest.h"
#include "tests/deploy/netns_topology.h"        // NetnsTopology
#include "tests/integration/serving_fixture.h"  // ServingTest, Daemon

namespace accllm::testing {
namespace {

class MultiHostTest : public ServingTest {
 protected:
  // The network goes after the daemons (locals of the test body) and also
  // when an assertion ends the test early.
  void TearDown() override { net_.Down(); }

  // `binary` run inside `host`'s namespace.
  std::unique_ptr<Daemon> StartIn(const std::string& host, const std::string& binary,
                                  std::vector<std::string> args) {
    const std::filesystem::path ready = dir_ / (host + ".ready");
    std::vector<std::string> all = {"netns", "exec", net_.Namespace(host),
                                    (BinDir() / binary).string(), "--ready-file=" + ready.string()};
    all.insert(all.end(), args.begin(), args.end());
    return std::make_unique<Daemon>(host, "/usr/sbin/ip", all, dir_.path(), ready);
  }

  NetnsTopology net_;
};

TEST_F(MultiHostTest, WorkersOnOtherHostsServe64StreamsAndOneHostVanishingLosesNothing) {
  std::string why;
  if (!std::filesystem::exists("/usr/sbin/ip") || !net_.Up({"server", "worker1", "worker2"}, &why)) {
    GTEST_SKIP() << "no test network: " << why;
  }
  const std::string model = MakeStories260K("stories") ? "stories" : "tiny";
  if (model == "tiny") MakeTinyModel("tiny");
  const std::string server_ip = net_.Address("server");
  // Nothing is sent anywhere before its route is known to be the test bridge.
  ASSERT_TRUE(net_.RoutedViaTestNetwork("", server_ip));
  for (const std::string w : {"worker1", "worker2"}) {
    ASSERT_TRUE(net_.RoutedViaTestNetwork(w, server_ip)) << w;
    ASSERT_TRUE(net_.RoutedViaTestNetwork("server", net_.Address(w))) << w;
  }

  auto server = StartIn("server", "accllm-server",
                        {"--listen=" + server_ip + ":50051", "--metrics-listen=" + server_ip + ":9464",
                         "--model-repository=" + repo().string(), "--local-worker=false",
                         "--min-workers=2", "--lease-seconds=2"});
  ASSERT_TRUE(server->ok()) << server->Log();
  std::map<std::string, std::unique_ptr<Daemon>> workers;
  for (const std::string w : {"worker1", "worker2"}) {
    const std::string ip = net_.Address(w);
    workers[w] = StartIn(w, "accllm-worker",
                         {"--listen=" + ip + ":50061", "--metrics-listen=" + ip + ":9465",
                          "--scheduler=" + server_ip + ":50051", "--device=cpu", "--threads=1",
                          "--kv-pages=512"});
    ASSERT_TRUE(workers[w]->ok()) << workers[w]->Log();
  }
  auto c = Connect(*server);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(WaitReady(*c, model, 2)) << server->Log();
  absl::StatusOr<std::vector<v1::WorkerStatus>> registered = c->ListWorkers();
  ASSERT_TRUE(registered.ok());
  std::set<std::string> addresses;
  for (const v1::WorkerStatus& w : *registered) addresses.insert(w.address());
  EXPECT_EQ(addresses, (std::set<std::string>{net_.Address("worker1") + ":50061",
                                              net_.Address("worker2") + ":50061"}));

  constexpr int kStreams = 64;
  constexpr int kTokens = 96;
  std::vector<v1::GenerateRequest> requests;
  for (int i = 0; i < kStreams; ++i) {
    requests.push_back(GreedyIds(model, {1, 20 + i, 3 * i + 5}, kTokens));
  }
  // The reference: the same load with both hosts up.
  const ConcurrentRun reference = StreamConcurrently(*c, requests, 1, [] {});
  ASSERT_EQ(reference.finished, kStreams);

  const ConcurrentRun run = StreamConcurrently(*c, requests, 8, [&] {
    net_.TearDownHost("worker2");
    workers["worker2"]->Wait(std::chrono::seconds(5));  // reap it
  });
  EXPECT_LT(run.min_received, kTokens) << "the streams ended before the host went away";
  EXPECT_EQ(run.finished, kStreams);
  for (int i = 0; i < kStreams; ++i) {
    EXPECT_EQ(run.tokens[i].size(), static_cast<size_t>(kTokens)) << "stream " << i;
    EXPECT_EQ(run.tokens[i], reference.tokens[i]) << "stream " << i;
  }
  absl::StatusOr<std::vector<v1::WorkerStatus>> after = c->ListWorkers();
  ASSERT_TRUE(after.ok());
  int up = 0;
  for (const v1::WorkerStatus& w : *after) up += w.state() == v1::WORKER_STATE_UP;
  EXPECT_EQ(up, 1);
}

}  // namespace
}  // namespace accllm::testing
