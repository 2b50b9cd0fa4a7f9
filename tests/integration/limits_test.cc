// The server's limits on a real server: streams beyond --max-streams queue,
// beyond --max-waiting they are refused with RESOURCE_EXHAUSTED (and counted);
// oversized requests and prompts are refused naming the limit; a client's
// deadline ends its stream and frees its KV pages at once; a client that
// cancels mid-write frees its slot.
#include <atomic>
#include <thread>

#include "accllm/v1/inference.grpc.pb.h"  // v1::Inference::Stub
#include "grpcpp/create_channel.h"        // grpc::CreateChannel
#include "grpcpp/security/credentials.h"  // grpc::InsecureChannelCredentials
#include "gtest/gtest.h"
#include "tests/integration/serving_fixture.h"

namespace accllm::testing {
namespace {

class LimitsTest : public ServingTest {
 protected:
  double Metric(const Daemon& server, const std::string& name,
                const std::vector<std::string>& labels = {}) {
    return MetricSum(HttpGet(server.metrics_address(), "/metrics"), name, labels);
  }
};

TEST_F(LimitsTest, StreamsQueueBeyondMaxStreamsAndAreRefusedBeyondMaxWaiting) {
  MakeTinyModel("tiny");
  std::unique_ptr<Daemon> server = StartServer("server", {"--max-streams=1", "--max-waiting=1"});
  std::unique_ptr<client::Client> c = Connect(*server);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(WaitReady(*c, "tiny"));

  // A stream that runs until told to stop holds the only slot.
  std::atomic<int> first_tokens = 0;
  std::atomic<bool> stop_first = false;
  std::thread first([&] {
    absl::StatusOr<client::GenerateResult> r =
        c->Generate(GreedyIds("tiny", {1, 2}, 1 << 19), [&](const v1::GenerateResponse& m) {
          first_tokens += m.token_ids_size();
          return !stop_first.load();
        });
    EXPECT_TRUE(r.ok()) << r.status();
  });
  ASSERT_TRUE(Eventually([&] { return first_tokens.load() > 0; }));
  std::vector<int32_t> second_tokens;
  std::thread second([&] { second_tokens = Collect(*c, GreedyIds("tiny", {3, 4}, 5)); });
  ASSERT_TRUE(Eventually([&] {
    return Metric(*server, "accllm_admission_streams", {"state=\"waiting\""}) == 1;
  }));
  EXPECT_TRUE(second_tokens.empty());

  absl::StatusOr<client::GenerateResult> third =
      c->Generate(GreedyIds("tiny", {5, 6}, 5), [](const v1::GenerateResponse&) { return true; });
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted) << third.status();
  EXPECT_NE(third.status().message().find("--max-streams"), std::string::npos) << third.status();
  EXPECT_EQ(Metric(*server, "accllm_admission_rejected_total", {"reason=\"busy\""}), 1);

  stop_first = true;  // its slot passes to the waiting stream
  first.join();
  second.join();
  EXPECT_EQ(second_tokens.size(), 5u);
  EXPECT_TRUE(Eventually([&] {
    return Metric(*server, "accllm_admission_streams", {"state=\"running\""}) == 0;
  }));
}

// A client that cancels mid-stream frees its slot even when the scheduler ends
// the request while a write to that client is still in flight (the call must
// still be finished for gRPC to release it). Many rounds: the race is narrow.
TEST_F(LimitsTest, StreamsCancelledMidWriteFreeTheirSlot) {
  MakeTinyModel("tiny");
  std::unique_ptr<Daemon> server = StartServer("server", {"--max-streams=1", "--max-waiting=4"});
  std::unique_ptr<client::Client> c = Connect(*server);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(WaitReady(*c, "tiny"));
  auto stub = v1::Inference::NewStub(
      grpc::CreateChannel(server->grpc_address(), grpc::InsecureChannelCredentials()));
  for (int round = 0; round < 40; ++round) {
    int seen = 0;
    absl::StatusOr<client::GenerateResult> cancelled =
        c->Generate(GreedyIds("tiny", {1, 2}, 1 << 19),
                    [&](const v1::GenerateResponse&) { return ++seen < 1 + round % 4; });
    ASSERT_TRUE(cancelled.ok()) << cancelled.status();
    // The next stream needs that slot; bounded, so a slot never freed fails here.
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    auto reader = stub->Generate(&context, GreedyIds("tiny", {3, 4}, 3));
    v1::GenerateResponse message;
    int tokens = 0;
    while (reader->Read(&message)) tokens += message.token_ids_size();
    const grpc::Status status = reader->Finish();
    ASSERT_TRUE(status.ok()) << "round " << round << ": " << status.error_message();
    EXPECT_EQ(tokens, 3);
  }
  EXPECT_TRUE(Eventually([&] {
    return Metric(*server, "accllm_admission_streams", {"state=\"running\""}) == 0;
  }));
}

TEST_F(LimitsTest, OversizedRequestsAndPromptsAreRefusedNamingTheLimit) {
  MakeTinyModel("tiny");
  std::unique_ptr<Daemon> server =
      StartServer("server", {"--max-request-bytes=4096", "--max-prompt-tokens=64"});
  std::unique_ptr<client::Client> c = Connect(*server);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(WaitReady(*c, "tiny"));
  auto ignore = [](const v1::GenerateResponse&) { return true; };

  absl::StatusOr<client::GenerateResult> long_prompt =
      c->Generate(GreedyIds("tiny", std::vector<int32_t>(65, 7), 2), ignore);
  EXPECT_EQ(long_prompt.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(long_prompt.status().message().find("65 tokens exceed the limit of 64"),
            std::string::npos)
      << long_prompt.status();
  absl::StatusOr<client::GenerateResult> huge =
      c->Generate(GreedyIds("tiny", std::vector<int32_t>(3000, 200), 2), ignore);
  EXPECT_EQ(huge.status().code(), absl::StatusCode::kResourceExhausted) << huge.status();
  // The server is unharmed.
  EXPECT_EQ(Collect(*c, GreedyIds("tiny", std::vector<int32_t>(64, 7), 3)).size(), 3u);
}

TEST_F(LimitsTest, ADeadlineEndsTheStreamAndFreesItsPages) {
  MakeTinyModel("tiny");
  std::unique_ptr<Daemon> server = StartServer("server");
  std::unique_ptr<client::Client> c = Connect(*server);
  ASSERT_NE(c, nullptr);
  ASSERT_TRUE(WaitReady(*c, "tiny"));

  auto stub = v1::Inference::NewStub(
      grpc::CreateChannel(server->grpc_address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  const auto start = std::chrono::steady_clock::now();
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(800));
  auto reader = stub->Generate(&context, GreedyIds("tiny", {1, 2, 3}, 1 << 19));
  v1::GenerateResponse message;
  int tokens = 0;
  v1::FinishReason reason = v1::FINISH_REASON_UNSPECIFIED;
  while (reader->Read(&message)) {
    tokens += message.token_ids_size();
    if (message.finish_reason() != v1::FINISH_REASON_UNSPECIFIED) reason = message.finish_reason();
  }
  const grpc::Status status = reader->Finish();
  EXPECT_GT(tokens, 0);
  EXPECT_TRUE(status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
              (status.ok() && reason == v1::FINISH_REASON_DEADLINE))
      << status.error_message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // Pages go back at once (bounded wait: the scheduler's next step).
  EXPECT_TRUE(Eventually([&] { return Metric(*server, "accllm_kv_pages_used") == 0; },
                         std::chrono::seconds(3)));
}

}  // namespace
}  // namespace accllm::testing
