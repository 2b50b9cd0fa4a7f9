// /metrics of both processes: valid Prometheus text (promtool), and a real
// Prometheus server scraping them answers queries about accllm's counters.
#include <signal.h>

#include "gtest/gtest.h"
#include "tests/integration/serving_fixture.h"  // ServingTest

namespace accllm::testing {
namespace {

class MetricsTest : public ServingTest {};

TEST_F(MetricsTest, BothProcessesPassPromtoolAndARealPrometheusScrapesThem) {
  if (RunCommand("command -v promtool && command -v prometheus").exit_code != 0) {
    GTEST_SKIP() << "promtool/prometheus not installed (make deps installs the prometheus package)";
  }
  MakeTinyModel("tiny");
  auto server = StartServer("server", {"--local-worker=false"});
  ASSERT_TRUE(server->ok());
  auto worker = StartWorker("worker", server->grpc_address());
  auto c = Connect(*server);
  ASSERT_TRUE(WaitReady(*c, "tiny"));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Collect(*c, GreedyIds("tiny", {1, 2 + i}, 20)).size(), 20u);

  const std::string server_text = HttpGet(server->metrics_address(), "/metrics");
  const std::string worker_text = HttpGet(worker->metrics_address(), "/metrics");
  for (const std::string name :
       {"accllm_requests_total", "accllm_requests_running", "accllm_requests_waiting",
        "accllm_time_to_first_token_seconds_bucket", "accllm_inter_token_latency_seconds_bucket",
        "accllm_request_duration_seconds_bucket", "accllm_prompt_tokens_total",
        "accllm_generation_tokens_total", "accllm_kv_pages_used", "accllm_kv_pages_total",
        "accllm_preemptions_total", "accllm_batch_tokens_bucket", "accllm_worker_up",
        "accllm_step_duration_seconds_bucket"}) {
    EXPECT_NE(server_text.find(name), std::string::npos) << name;
  }
  EXPECT_EQ(MetricSum(server_text, "accllm_generation_tokens_total", {"model=\"tiny\""}), 60);
  EXPECT_EQ(MetricSum(server_text, "accllm_requests_total", {"status=\"length\""}), 3);
  EXPECT_EQ(MetricSum(server_text, "accllm_kv_pages_total"), 512);
  EXPECT_GT(MetricSum(worker_text, "accllm_worker_steps_total"), 0);
  for (const auto& [name, text] : {std::pair{"server", server_text}, {"worker", worker_text}}) {
    WriteFileOrDie(dir_ / (std::string(name) + ".prom"), text);
    const CommandResult check =
        RunCommand("promtool check metrics < " + (dir_ / (std::string(name) + ".prom")).string());
    EXPECT_EQ(check.exit_code, 0) << name << ": " << check.out << check.err;
  }

  const int port = FreePort();
  WriteFileOrDie(dir_ / "prometheus.yml",
                 "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                 "scrape_configs:\n  - job_name: accllm\n    static_configs:\n"
                 "      - targets: ['" + server->metrics_address() + "', '" +
                     worker->metrics_address() + "']\n");
  Daemon prometheus("prometheus", "/usr/bin/prometheus",
                    {"--config.file=" + (dir_ / "prometheus.yml").string(),
                     "--storage.tsdb.path=" + (dir_ / "tsdb").string(),
                     "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                    dir_.path(), std::nullopt);
  ASSERT_TRUE(prometheus.ok());
  const std::string address = "127.0.0.1:" + std::to_string(port);
  std::string answer;
  EXPECT_TRUE(Eventually(
      [&] {
        answer = HttpGet(address, "/api/v1/query?query=accllm_generation_tokens_total");
        return answer.find("\"tiny\"") != std::string::npos &&
               answer.find("\"60\"") != std::string::npos;
      },
      std::chrono::seconds(60)))
      << answer << "\n" << prometheus.Log();
  std::string targets;
  EXPECT_TRUE(Eventually([&] {
    targets = HttpGet(address, "/api/v1/query?query=up");
    return targets.find(worker->metrics_address()) != std::string::npos &&
           targets.find(server->metrics_address()) != std::string::npos &&
           targets.find("\"0\"]") == std::string::npos;
  })) << targets;
  prometheus.Signal(SIGTERM);
  prometheus.Wait(std::chrono::seconds(10));
}

}  // namespace
}  // namespace accllm::testing
