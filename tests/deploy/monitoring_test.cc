// deploy/prometheus and deploy/grafana against real processes: Debian's
// Prometheus scrapes a real server and worker with the alert rules of
// deploy/prometheus/alerts.yml loaded; every rule evaluates without error and
// every query of deploy/grafana/dashboards/accllm.json returns data.
#include <signal.h>

#include <regex>
#include <set>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"                    // nlohmann::json
#include "tests/integration/serving_fixture.h"  // ServingTest, Daemon, HttpGet

namespace accllm::testing {
namespace {

const std::filesystem::path kDeploy = ACCLLM_DEPLOY_DIR;

std::string UrlEncode(const std::string& text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += {'%', hex[c >> 4], hex[c & 15]};
    }
  }
  return out;
}

// Every PromQL expression of the dashboard, with Grafana's variables given the
// values a default view has (all models, a rate window of several scrapes).
std::vector<std::string> DashboardQueries() {
  const nlohmann::json dashboard =
      nlohmann::json::parse(ReadFileOrDie(kDeploy / "grafana/dashboards/accllm.json"));
  std::vector<std::string> queries;
  for (const nlohmann::json& panel : dashboard.at("panels")) {
    for (const nlohmann::json& target : panel.at("targets")) {
      std::string expr = target.at("expr").get<std::string>();
      expr = std::regex_replace(expr, std::regex(R"(\$__rate_interval)"), "30s");
      expr = std::regex_replace(expr, std::regex(R"(\$model)"), ".*");
      EXPECT_EQ(expr.find('$'), std::string::npos) << "unknown variable in " << expr;
      queries.push_back(expr);
    }
  }
  return queries;
}

// accllm_* metric names in `text`, histogram suffixes removed.
std::set<std::string> MetricNames(const std::string& text) {
  std::set<std::string> names;
  const std::regex name(R"(accllm_[a-z0-9_]+)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), name); it != std::sregex_iterator();
       ++it) {
    names.insert(std::regex_replace(it->str(), std::regex("_(bucket|sum|count)$"), ""));
  }
  return names;
}

class MonitoringTest : public ServingTest {};

TEST_F(MonitoringTest, AlertsEvaluateAndEveryDashboardQueryReturnsData) {
  if (RunCommand("command -v prometheus").exit_code != 0) {
    GTEST_SKIP() << "prometheus not installed (make deps installs the prometheus package)";
  }
  MakeTinyModel("tiny");
  auto server = StartServer("server", {"--local-worker=false"});
  ASSERT_TRUE(server->ok());
  auto worker = StartWorker("worker", server->grpc_address());
  auto c = Connect(*server);
  ASSERT_TRUE(WaitReady(*c, "tiny"));

  // The job names of deploy/prometheus/prometheus.yml, pointed at these processes.
  const int port = FreePort();
  WriteFileOrDie(dir_ / "prometheus.yml",
                 "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                 "rule_files:\n  - " + (kDeploy / "prometheus/alerts.yml").string() + "\n"
                 "scrape_configs:\n"
                 "  - job_name: accllm-server\n    static_configs:\n"
                 "      - targets: ['" + server->metrics_address() + "']\n"
                 "  - job_name: accllm-worker\n    static_configs:\n"
                 "      - targets: ['" + worker->metrics_address() + "']\n");
  Daemon prometheus("prometheus", "/usr/bin/prometheus",
                    {"--config.file=" + (dir_ / "prometheus.yml").string(),
                     "--storage.tsdb.path=" + (dir_ / "tsdb").string(),
                     "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                    dir_.path(), std::nullopt);
  ASSERT_TRUE(prometheus.ok());
  const std::string address = "127.0.0.1:" + std::to_string(port);
  ASSERT_TRUE(Eventually([&] { return !HttpGet(address, "/-/ready").empty(); }))
      << prometheus.Log();

  // Traffic spread over a few scrapes, so rates and quantiles have samples.
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(Collect(*c, GreedyIds("tiny", {1, 2 + i}, 24)).size(), 24u);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
  }

  // Every accllm_* series the dashboard and the alerts name is exported (after traffic:
  // a family appears with its first sample).
  const std::string server_text = HttpGet(server->metrics_address(), "/metrics");
  const std::string worker_text = HttpGet(worker->metrics_address(), "/metrics");
  const std::set<std::string> exported = MetricNames(server_text + worker_text);
  for (const std::string file : {"grafana/dashboards/accllm.json", "prometheus/alerts.yml"}) {
    const std::set<std::string> used = MetricNames(ReadFileOrDie(kDeploy / file));
    EXPECT_FALSE(used.empty()) << file;
    for (const std::string& name : used) EXPECT_TRUE(exported.count(name)) << file << ": " << name;
  }

  for (const std::string& query : DashboardQueries()) {
    std::string answer;
    EXPECT_TRUE(Eventually(
        [&] {
          answer = HttpGet(address, "/api/v1/query?query=" + UrlEncode(query));
          if (answer.empty()) return false;
          const nlohmann::json j = nlohmann::json::parse(answer, nullptr, false);
          return !j.is_discarded() && j.value("status", "") == "success" &&
                 !j["data"]["result"].empty();
        },
        std::chrono::seconds(20)))
        << "no data for: " << query << "\n" << answer;
  }
  std::string ready_state;
  EXPECT_TRUE(Eventually([&] {
    ready_state = HttpGet(address, "/api/v1/query?query=" +
                                       UrlEncode("accllm_model_state{model=\"tiny\"} == 1"));
    return ready_state.find("\"READY\"") != std::string::npos;
  })) << ready_state;

  // Every rule of alerts.yml has been evaluated, without error.
  std::string rules;
  size_t count = 0;
  EXPECT_TRUE(Eventually(
      [&] {
        rules = HttpGet(address, "/api/v1/rules");
        const nlohmann::json j = nlohmann::json::parse(rules, nullptr, false);
        if (j.is_discarded() || j.value("status", "") != "success") return false;
        count = 0;
        for (const nlohmann::json& group : j["data"]["groups"]) {
          for (const nlohmann::json& rule : group["rules"]) {
            if (rule.value("health", "") != "ok" || !rule.value("lastError", "").empty()) return false;
            ++count;
          }
        }
        return count > 0;
      },
      std::chrono::seconds(30)))
      << rules;
  EXPECT_EQ(count, 7u) << rules;
  // Nothing fires against a healthy server (no READY model would, for example).
  const std::string alerts = HttpGet(address, "/api/v1/alerts");
  EXPECT_NE(alerts.find("\"alerts\":[]"), std::string::npos) << alerts;
  prometheus.Signal(SIGTERM);
  prometheus.Wait(std::chrono::seconds(10));
}

}  // namespace
}  // namespace accllm::testing
