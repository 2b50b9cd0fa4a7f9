// Prefix sharing through the real server and worker: streams that arrive while another
// with the same long prompt prefix runs adopt its KV pages (copy-on-write of the page
// they share mid-way) and stream exactly what they stream alone.
#include <atomic>
#include <thread>

#include "gtest/gtest.h"
#include "tests/integration/serving_fixture.h"  // ServingTest

namespace accllm::testing {
namespace {

class PrefixSharingServingTest : public ServingTest {};

double PageCopies(const Daemon& worker) {
  return MetricSum(HttpGet(worker.metrics_address(), "/metrics"),
                   "accllm_worker_kv_page_copies_total");
}

TEST_F(PrefixSharingServingTest, StreamsSharingALongPrefixStreamWhatTheyStreamAlone) {
  MakeTinyModel("tiny");
  auto server = StartServer("server", {"--local-worker=false"});
  ASSERT_TRUE(server->ok());
  auto worker = StartWorker("worker", server->grpc_address());  // pages of 16 tokens
  auto c = Connect(*server);
  ASSERT_TRUE(WaitReady(*c, "tiny")) << server->Log();

  // 40 shared tokens: two full pages and half of the third (copy-on-write when adopted).
  std::vector<int32_t> shared = {1};
  for (int i = 1; i < 40; ++i) shared.push_back((i * 37 + 5) % 500 + 2);
  auto request = [&](std::vector<int32_t> suffix, int n, float temperature = 0) {
    std::vector<int32_t> prompt = shared;
    prompt.insert(prompt.end(), suffix.begin(), suffix.end());
    v1::GenerateRequest r = GreedyIds("tiny", prompt, n);
    r.mutable_attention()->mutable_lambda()->set_window(512);  // no page leaves the window
    r.mutable_sampling()->set_temperature(temperature);
    r.mutable_sampling()->set_seed(99);
    return r;
  };
  // The first runs long enough for the others to arrive while it holds the prefix.
  const std::vector<v1::GenerateRequest> requests = {
      request({7, 8, 9}, 300),    request({7, 8, 9}, 40),  // the same prompt
      request({100, 101}, 40),    request({200}, 40),      // diverging at 40
      request({300, 301, 302}, 40, 1.0f)};                 // sampled

  std::vector<std::vector<int32_t>> alone;
  for (const v1::GenerateRequest& r : requests) alone.push_back(Collect(*c, r));
  // One at a time nothing is shared: the references are unshared runs.
  ASSERT_EQ(PageCopies(*worker), 0) << "a stream alone copied pages";

  std::vector<std::vector<int32_t>> together(requests.size());
  std::vector<v1::FinishReason> reasons(requests.size(), v1::FINISH_REASON_UNSPECIFIED);
  std::atomic<int> first_received = 0;
  // What the first stream had received when each later one received its first token.
  std::vector<int> first_when_started(requests.size(), 0);
  auto stream = [&](size_t i) {
    absl::StatusOr<client::GenerateResult> r =
        c->Generate(requests[i], [&, i](const v1::GenerateResponse& m) {
          if (i > 0 && together[i].empty()) first_when_started[i] = first_received.load();
          together[i].insert(together[i].end(), m.token_ids().begin(), m.token_ids().end());
          if (i == 0) first_received += m.token_ids_size();
          return true;
        });
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok()) reasons[i] = r->finish_reason;
  };
  std::vector<std::thread> threads;
  threads.emplace_back(stream, 0);
  // Its prompt's K/V exist once it streams; the others arrive while it still runs.
  EXPECT_TRUE(Eventually([&] { return first_received.load() >= 1; }));
  for (size_t i = 1; i < requests.size(); ++i) threads.emplace_back(stream, i);
  for (std::thread& t : threads) t.join();
  for (size_t i = 1; i < requests.size(); ++i) {
    EXPECT_LT(first_when_started[i], 300) << "the first stream ended before stream " << i;
  }

  for (size_t i = 0; i < requests.size(); ++i) {
    EXPECT_EQ(reasons[i], v1::FINISH_REASON_LENGTH) << "stream " << i;
    EXPECT_EQ(together[i], alone[i]) << "stream " << i;
  }
  // Each adopter of the 40-token prefix (and of the same 42-token prompt) copied the page it
  // shares before writing into it.
  EXPECT_GE(PageCopies(*worker), 1) << HttpGet(worker->metrics_address(), "/metrics");
}

}  // namespace
}  // namespace accllm::testing
