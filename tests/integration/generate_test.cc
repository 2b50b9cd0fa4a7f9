// Inference through real processes: accllm-server + its local accllm-worker on
// 127.0.0.1, driven by the client library and the accllm CLI.
#include <atomic>
#include <thread>

#include "absl/strings/str_join.h"                 // absl::StrJoin
#include "gtest/gtest.h"
#include "tests/integration/serving_fixture.h"    // ServingTest

namespace accllm::testing {
namespace {

class GenerateTest : public ServingTest {};

std::string Cli(const std::string& args) { return (BinDir() / "accllm").string() + " " + args; }

TEST_F(GenerateTest, StreamingGenerateEqualsAccllmRunForTheSameGreedyRequest) {
  MakeTinyModel("tiny");
  const bool stories = MakeStories260K("s260");
  auto server = StartServer("server");
  ASSERT_TRUE(server->ok());
  auto c = Connect(*server);
  ASSERT_TRUE(WaitReady(*c, "tiny"));
  struct Case {
    std::string model, prompt_flag, attention;
  };
  std::vector<Case> cases = {{"tiny", "--prompt-ids '1 5 9 200'", "lambda:4,64"},
                             {"tiny", "--prompt 'Once upon a time'", "dense"}};
  if (stories) {
    ASSERT_TRUE(WaitReady(*c, "s260"));
    cases.push_back({"s260", "--prompt-ids 1", "dense"});
    cases.push_back({"s260", "--prompt-ids '1 403 407'", "lambda:4,32"});
  }
  for (const Case& k : cases) {
    for (const std::string format : {"--ids", ""}) {
      if (format.empty() && k.model == "s260") continue;  // converted without a tokenizer
      const std::string common = k.prompt_flag + " --max-tokens 120 --temperature 0 --ignore-eos " +
                                 format + " --attention " + k.attention;
      const CommandResult run =
          RunCommand(Cli("run --model " + (repo() / k.model).string() + " " + common));
      const CommandResult generate = RunCommand(
          Cli("generate --server " + server->grpc_address() + " --model " + k.model + " " + common));
      ASSERT_EQ(run.exit_code, 0) << run.err;
      ASSERT_EQ(generate.exit_code, 0) << generate.err;
      EXPECT_EQ(generate.out, run.out) << k.model << " " << common;
      EXPECT_FALSE(run.out.empty());
    }
  }
}

TEST_F(GenerateTest, ThirtyTwoConcurrentClientsAllCompleteWithTheirOwnTokens) {
  MakeTinyModel("tiny");
  auto server = StartServer("server");
  ASSERT_TRUE(server->ok());
  auto c = Connect(*server);
  ASSERT_TRUE(WaitReady(*c, "tiny"));
  constexpr int kClients = 32;
  std::vector<std::vector<int32_t>> alone(kClients), together(kClients);
  auto request = [](int i) {
    return GreedyIds("tiny", {1, 10 + i, 20 + 3 * i, 7}, 24 + (i % 5) * 8);
  };
  for (int i = 0; i < kClients; ++i) alone[i] = Collect(*c, request(i));
  std::vector<std::thread> threads;
  std::atomic<int> completed = 0;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<std::unique_ptr<client::Client>> own =
          client::Client::Connect(server->grpc_address());
      if (!own.ok()) return;
      v1::FinishReason reason;
      together[i] = Collect(**own, request(i), &reason);
      if (reason == v1::FINISH_REASON_LENGTH) ++completed;
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(completed.load(), kClients);
  for (int i = 0; i < kClients; ++i) {
    EXPECT_EQ(together[i], alone[i]) << "client " << i;
    EXPECT_EQ(together[i].size(), static_cast<size_t>(24 + (i % 5) * 8));
  }
}

TEST_F(GenerateTest, AClientThatDisconnectsMidStreamFreesItsPages) {
  MakeTinyModel("tiny");
  auto server = StartServer("server");
  ASSERT_TRUE(server->ok());
  auto c = Connect(*server);
  ASSERT_TRUE(WaitReady(*c, "tiny"));
  std::atomic<int> received = 0;
  std::atomic<bool> hold = true;
  std::thread reader([&] {
    // Dense attention over a long sequence: its pages keep growing until it ends.
    v1::GenerateRequest r = GreedyIds("tiny", {1, 2, 3}, 4000);
    r.mutable_attention()->mutable_dense();
    absl::StatusOr<client::GenerateResult> result =
        c->Generate(r, [&](const v1::GenerateResponse& m) {
          received += m.token_ids_size();
          return hold.load();  // false: cancel the call, as a client going away
        });
    EXPECT_TRUE(result.ok()) << result.status();
  });
  ASSERT_TRUE(Eventually([&] { return received.load() >= 100; }));
  const std::string during = HttpGet(server->metrics_address(), "/metrics");
  ASSERT_TRUE(Eventually([&] {
    return MetricSum(HttpGet(server->metrics_address(), "/metrics"), "accllm_kv_pages_used") >= 5;
  })) << during;
  hold = false;
  reader.join();
  EXPECT_TRUE(Eventually([&] {
    const std::string text = HttpGet(server->metrics_address(), "/metrics");
    return MetricSum(text, "accllm_kv_pages_used") == 0 &&
           MetricSum(text, "accllm_requests_total", {"status=\"cancelled\""}) == 1 &&
           MetricSum(text, "accllm_requests_running") == 0;
  })) << HttpGet(server->metrics_address(), "/metrics");
  EXPECT_LT(received.load(), 4000);
  absl::StatusOr<std::vector<v1::ModelStatistics>> stats = c->Statistics("tiny");
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->at(0).requests_cancelled(), 1);
}

TEST_F(GenerateTest, HealthIsNotServingUntilAModelIsReady) {
  MakeTinyModel("tiny");
  auto server = StartServer("server", {"--load-model="});
  ASSERT_TRUE(server->ok());
  EXPECT_EQ(HealthStatus(server->grpc_address(), ""), "SERVING");
  EXPECT_EQ(HealthStatus(server->grpc_address(), "accllm.v1.Inference"), "NOT_SERVING");
  auto c = Connect(*server);
  absl::StatusOr<v1::ModelInfo> available = c->GetModel("tiny");
  ASSERT_TRUE(available.ok()) << available.status();
  EXPECT_EQ(available->state(), v1::MODEL_STATE_AVAILABLE);
  // Generate names the problem while nothing is loaded.
  absl::StatusOr<client::GenerateResult> early =
      c->Generate(GreedyIds("tiny", {1}, 4), [](const v1::GenerateResponse&) { return true; });
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition) << early.status();
  ASSERT_TRUE(Eventually([&] { return !c->ListWorkers()->empty(); }));
  absl::StatusOr<v1::ModelInfo> loaded = c->LoadModel("tiny");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->state(), v1::MODEL_STATE_READY);
  EXPECT_EQ(HealthStatus(server->grpc_address(), "accllm.v1.Inference"), "SERVING");
  ASSERT_TRUE(c->UnloadModel("tiny").ok());
  EXPECT_EQ(HealthStatus(server->grpc_address(), "accllm.v1.Inference"), "NOT_SERVING");
}

TEST_F(GenerateTest, BadRequestsGetErrorsThatNameTheField) {
  MakeTinyModel("tiny");
  auto server = StartServer("server");
  ASSERT_TRUE(server->ok());
  auto c = Connect(*server);
  ASSERT_TRUE(WaitReady(*c, "tiny"));
  auto expect_error = [&](v1::GenerateRequest r, absl::StatusCode code, const std::string& words) {
    absl::StatusOr<client::GenerateResult> result =
        c->Generate(r, [](const v1::GenerateResponse&) { return true; });
    EXPECT_EQ(result.status().code(), code) << result.status();
    EXPECT_NE(result.status().message().find(words), std::string::npos) << result.status();
  };
  v1::GenerateRequest r = GreedyIds("tiny", {1, 2}, 8);
  expect_error(GreedyIds("nope", {1}, 4), absl::StatusCode::kNotFound, "nope");
  r.mutable_token_ids()->add_ids(100000);
  expect_error(r, absl::StatusCode::kInvalidArgument, "100000");
  r = GreedyIds("tiny", {1}, 8);
  r.mutable_sampling()->set_temperature(-1);
  expect_error(r, absl::StatusCode::kInvalidArgument, "temperature");
  r = GreedyIds("tiny", {1}, 8);
  r.set_max_tokens(-3);
  expect_error(r, absl::StatusCode::kInvalidArgument, "max_tokens");
  r = GreedyIds("tiny", {1}, 8);
  r.set_priority(1000);
  expect_error(r, absl::StatusCode::kInvalidArgument, "priority");
  r = GreedyIds("tiny", {1}, 8);
  r.mutable_attention()->mutable_lambda()->set_window(0);
  expect_error(r, absl::StatusCode::kInvalidArgument, "window");
  r = GreedyIds("tiny", {1}, 8);
  r.clear_token_ids();
  expect_error(r, absl::StatusCode::kInvalidArgument, "prompt");
  // An oversized dense prompt: longer than the model's context.
  r = GreedyIds("tiny", std::vector<int32_t>(5000, 7), 8);
  r.mutable_attention()->mutable_dense();
  expect_error(r, absl::StatusCode::kInvalidArgument, "context");
  // The server still serves.
  EXPECT_EQ(Collect(*c, GreedyIds("tiny", {1, 2}, 8)).size(), 8u);
  // Tokenize and back.
  v1::TokenizeRequest t;
  t.set_model("tiny");
  t.set_text("hello world");
  t.set_add_bos(true);
  absl::StatusOr<v1::TokenizeResponse> ids = c->Tokenize(t);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(ids->ids(0), 1);
  v1::TokenizeRequest back;
  back.set_model("tiny");
  back.mutable_decode()->mutable_ids()->Add(ids->ids().begin() + 1, ids->ids().end());
  absl::StatusOr<v1::TokenizeResponse> text = c->Tokenize(back);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(text->text(), "hello world");
}

}  // namespace
}  // namespace accllm::testing
