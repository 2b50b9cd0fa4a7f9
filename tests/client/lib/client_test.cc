// Client against a real gRPC server on loopback (tests/client/fake_accllm_server.h).
#include "client/lib/client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "client/lib/grpc_status.h"
#include "tests/client/fake_accllm_server.h"
#include "tests/support/status_matchers.h"

namespace accllm::client {
namespace {

namespace v1 = accllm::v1;
using ::accllm::testing::FakeAccllmServer;
using ::accllm::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<Client>> c = Client::Connect(server_.address());
    ASSERT_TRUE(c.ok()) << c.status();
    client_ = *std::move(c);
  }

  static v1::GenerateRequest Request(const std::string& model, int32_t max_tokens) {
    v1::GenerateRequest request;
    request.set_model(model);
    request.mutable_token_ids()->add_ids(1);
    request.set_max_tokens(max_tokens);
    return request;
  }

  FakeAccllmServer server_;
  std::unique_ptr<Client> client_;
};

TEST_F(ClientTest, GenerateStreamsMessagesInOrder) {
  std::vector<int32_t> ids;
  std::string text;
  absl::StatusOr<GenerateResult> result =
      client_->Generate(Request("tiny", 5), [&](const v1::GenerateResponse& m) {
        ids.insert(ids.end(), m.token_ids().begin(), m.token_ids().end());
        text += m.text();
        return true;
      });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_THAT(ids, ElementsAre(10, 11, 12, 13, 14));
  EXPECT_EQ(text, "t10 t11 t12 t13 t14 ");
  EXPECT_EQ(result->finish_reason, v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(result->usage.prompt_tokens(), 1);
  EXPECT_EQ(result->usage.completion_tokens(), 5);
  EXPECT_EQ(result->tokens, 5);
}

TEST_F(ClientTest, CallbackReturningFalseCancelsTheCallOnTheServer) {
  int messages = 0;
  absl::StatusOr<GenerateResult> result = client_->Generate(
      Request("slow", 100000), [&](const v1::GenerateResponse&) { return ++messages < 3; });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->finish_reason, v1::FINISH_REASON_CANCELLED);
  EXPECT_EQ(messages, 3);  // no callback after the one that said stop
  EXPECT_TRUE(server_.WaitForCancelled(1, std::chrono::seconds(10)));
}

TEST_F(ClientTest, CancelAllEndsCallsInFlightAndLaterOnes) {
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    client_->CancelAll();
  });
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<GenerateResult> result =
      client_->Generate(Request("slow", 100000), [](const v1::GenerateResponse&) { return true; });
  canceller.join();
  EXPECT_EQ(result.status().code(), absl::StatusCode::kCancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_TRUE(server_.WaitForCancelled(1, std::chrono::seconds(10)));
  EXPECT_EQ(client_->Generate(Request("tiny", 2), [](const v1::GenerateResponse&) { return true; })
                .status()
                .code(),
            absl::StatusCode::kCancelled);
}

TEST_F(ClientTest, ServerErrorsKeepCodeAndMessageAndNameTheServer) {
  absl::StatusOr<GenerateResult> missing =
      client_->Generate(Request("nope", 3), [](const v1::GenerateResponse&) { return true; });
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("unknown model \"nope\""));
  EXPECT_THAT(missing.status().message(), HasSubstr(server_.address()));

  absl::StatusOr<v1::ModelInfo> broken = client_->LoadModel("broken");
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(broken.status().message(), HasSubstr("missing field hidden_size"));

  EXPECT_EQ(client_->DrainWorker("w9").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(client_->GetModel("nope").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ClientTest, ModelsWorkersAndTokenize) {
  absl::StatusOr<std::vector<v1::ModelInfo>> all = client_->ListModels();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->size(), 4u);
  absl::StatusOr<std::vector<v1::ModelInfo>> ready = client_->ListModels(true);
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->size(), 3u);
  absl::StatusOr<v1::ModelInfo> tiny = client_->GetModel("tiny");
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(tiny->vocab_size(), 100);
  absl::StatusOr<v1::ModelInfo> unloaded = client_->UnloadModel("tiny");
  ASSERT_TRUE(unloaded.ok());
  EXPECT_EQ(unloaded->state(), v1::MODEL_STATE_AVAILABLE);
  absl::StatusOr<std::vector<v1::ModelStatistics>> stats = client_->Statistics();
  ASSERT_TRUE(stats.ok());
  ASSERT_EQ(stats->size(), 1u);
  EXPECT_EQ((*stats)[0].generated_tokens(), 56);

  absl::StatusOr<std::vector<v1::WorkerStatus>> workers = client_->ListWorkers();
  ASSERT_TRUE(workers.ok());
  ASSERT_EQ(workers->size(), 1u);
  EXPECT_EQ((*workers)[0].kv_pages_total(), 256);
  absl::StatusOr<v1::WorkerStatus> drained = client_->DrainWorker("w1");
  ASSERT_TRUE(drained.ok());
  EXPECT_EQ(drained->state(), v1::WORKER_STATE_DRAINING);

  v1::TokenizeRequest tokenize;
  tokenize.set_text("ab");
  tokenize.set_add_bos(true);
  absl::StatusOr<v1::TokenizeResponse> ids = client_->Tokenize(tokenize);
  ASSERT_TRUE(ids.ok());
  EXPECT_THAT(ids->ids(), ElementsAre(1, 'a', 'b'));
}

TEST_F(ClientTest, ConcurrentGeneratesOnOneClient) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      auto r =
          client_->Generate(Request("tiny", 4), [](const v1::GenerateResponse&) { return true; });
      if (r.ok() && r->tokens == 4) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
}

TEST(ClientConnectTest, UnreachableServerFailsClearlyInBoundedTime) {
  const auto start = std::chrono::steady_clock::now();
  ClientOptions options;
  options.connect_timeout = std::chrono::milliseconds(500);
  options.rpc_timeout = std::chrono::seconds(1);
  options.load_timeout = std::chrono::seconds(1);
  absl::StatusOr<std::unique_ptr<Client>> c = Client::Connect("127.0.0.1:1", options);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(c.status().message(), HasSubstr("cannot reach accllm-server at 127.0.0.1:1"));
  EXPECT_THAT(c.status().message(), HasSubstr("UNAVAILABLE"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(ClientConnectTest, ConnectTimeoutOverload) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Client::Connect("127.0.0.1:1", std::chrono::milliseconds(200)).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  FakeAccllmServer server;
  EXPECT_TRUE(Client::Connect(server.address(), std::chrono::seconds(5)).ok());
}

TEST(ClientConnectTest, EmptyAddressIsAnArgumentError) {
  EXPECT_EQ(Client::Connect("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ClientConnectTest, ServerGoingAwayMidStreamIsAnError) {
  auto server = std::make_unique<FakeAccllmServer>();
  absl::StatusOr<std::unique_ptr<Client>> c = Client::Connect(server->address());
  ASSERT_TRUE(c.ok()) << c.status();
  v1::GenerateRequest request;
  request.set_model("slow");
  request.set_max_tokens(100000);
  int messages = 0;
  std::thread stopper;
  absl::StatusOr<GenerateResult> result = (*c)->Generate(request, [&](const v1::GenerateResponse&) {
    if (++messages == 2) {
      // Shut down from another thread: Shutdown waits for this call's handler.
      stopper = std::thread([&server] { server.reset(); });
    }
    return true;
  });
  stopper.join();
  EXPECT_THAT(result, StatusIs(absl::StatusCode::kUnavailable, HasSubstr("accllm-server")));
}

TEST(GrpcStatusTest, MapsCodeAndMessage) {
  absl::Status s =
      FromGrpcStatus(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "queue full"), "h:1");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(), "accllm-server at h:1: RESOURCE_EXHAUSTED: queue full");
  absl::Status u = FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "draining"), "h:1");
  EXPECT_EQ(u.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(u.message(), "accllm-server at h:1 is unavailable (UNAVAILABLE: draining)");
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK, "h:1").ok());
}

}  // namespace
}  // namespace accllm::client
