// The soak's short form (bench/soak.sh runs the 10-minute one): 24 clients for
// 75 s of mixed load against a server with two worker processes, while a worker
// is kill -9-ed and replaced every 10 s, the model is reloaded twice and one
// worker is drained (then replaced by the kill cycle). Nothing lost, duplicated
// or different from the single-request references; KV pages back to zero.
#include <signal.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "gtest/gtest.h"
#include "client/lib/soak.h"                    // client::RunSoak
#include "tests/integration/serving_fixture.h"  // ServingTest

namespace accllm::testing {
namespace {

class SoakTest : public ServingTest {};

constexpr double kLoadSeconds = 75;
constexpr auto kKillPeriod = std::chrono::seconds(10);

// Running sequences and state of the worker at `address`, from the registry.
std::optional<v1::WorkerStatus> WorkerAt(client::Client& c, const std::string& address) {
  absl::StatusOr<std::vector<v1::WorkerStatus>> workers = c.ListWorkers();
  if (!workers.ok()) return std::nullopt;
  for (const v1::WorkerStatus& w : *workers) {
    if (w.address() == address && w.state() != v1::WORKER_STATE_DOWN) return w;
  }
  return std::nullopt;
}

TEST_F(SoakTest, MixedLoadWithKillsReloadsAndADrainLosesNothing) {
  MakeTinyModel("tiny");
  auto server = StartServer("server", {"--local-worker=false", "--min-workers=2"});
  ASSERT_TRUE(server->ok());
  std::vector<std::unique_ptr<Daemon>> workers;  // every worker ever started; [live0, live1] last
  workers.push_back(StartWorker("worker0", server->grpc_address()));
  workers.push_back(StartWorker("worker1", server->grpc_address()));
  auto c = Connect(*server);
  ASSERT_TRUE(WaitReady(*c, "tiny", 2)) << server->Log();

  // The kill cycle: the drained worker first once there is one (so it is
  // replaced), else the two live workers in turn. Bounded by the load's end.
  std::atomic<bool> stop{false};
  int kills = 0, kills_holding_streams = 0, replacements_failed = 0;
  std::thread killer([&] {
    Daemon* live[2] = {workers[0].get(), workers[1].get()};
    for (int round = 0; round < 100 && !stop.load(); ++round) {
      for (auto t = std::chrono::steady_clock::now() + kKillPeriod;
           std::chrono::steady_clock::now() < t && !stop.load();) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (stop.load()) break;
      int victim = round % 2;
      for (int i = 0; i < 2; ++i) {
        std::optional<v1::WorkerStatus> w = WorkerAt(*c, live[i]->grpc_address());
        if (w && w->state() == v1::WORKER_STATE_DRAINING) victim = i;
      }
      std::optional<v1::WorkerStatus> before = WorkerAt(*c, live[victim]->grpc_address());
      const bool held = before && before->running_sequences() > 0;
      live[victim]->Signal(SIGKILL);
      live[victim]->Wait(std::chrono::seconds(10));
      ++kills;
      kills_holding_streams += held;
      workers.push_back(StartWorker("worker" + std::to_string(workers.size()),
                                    server->grpc_address()));
      replacements_failed += !workers.back()->ok();
      live[victim] = workers.back().get();
    }
  });

  client::SoakOptions options;
  options.model = "tiny";
  options.concurrency = 24;  // the 10-minute soak runs 64
  options.duration_s = kLoadSeconds;
  options.pool = 32;
  options.max_prompt_tokens = 40;
  options.max_gen_tokens = 80;
  options.seed = 17;
  options.reload_at_s = {15, 50};
  options.drain_at_s = 25;
  options.server_pid = server->pid();
  absl::StatusOr<client::SoakReport> report = client::RunSoak(*c, options);
  stop = true;
  killer.join();
  ASSERT_TRUE(report.ok()) << report.status();
  std::cout << client::SoakReportJson(*report) << std::endl;

  // The faults happened, with their preconditions.
  EXPECT_GE(kills, 5);
  EXPECT_GE(kills_holding_streams, 4) << "the killed workers were idle";
  EXPECT_EQ(replacements_failed, 0);
  EXPECT_GE(report->faults["worker_killed"], 4);
  EXPECT_EQ(report->faults["reload"], 2);
  EXPECT_GT(report->streams_in_flight_at_reload, 0) << "the reloads overlapped no stream";
  EXPECT_EQ(report->faults["drain"], 1);
  EXPECT_GT(report->streams_on_drained_worker, 0);
  // Every stream accounted for and equal to (or a prefix of) its reference.
  EXPECT_GT(report->completed, 100);
  EXPECT_GT(report->deadline + report->cancelled, 10);
  EXPECT_EQ(report->lost, 0);
  EXPECT_EQ(report->duplicated, 0);
  EXPECT_EQ(report->mismatches, 0);
  EXPECT_EQ(report->errors, 0) << report->first_error;
  EXPECT_EQ(report->started, report->completed + report->deadline + report->cancelled +
                                 report->errors);
  EXPECT_EQ(report->kv_pages_used_end, 0);
  EXPECT_TRUE(Eventually([&] {
    return MetricSum(HttpGet(server->metrics_address(), "/metrics"), "accllm_kv_pages_used") == 0;
  })) << HttpGet(server->metrics_address(), "/metrics");
  // Both workers serve after it all (the drained one was replaced).
  EXPECT_TRUE(WaitReady(*c, "tiny", 2));
  EXPECT_GT(report->samples, 30);
}

}  // namespace
}  // namespace accllm::testing
