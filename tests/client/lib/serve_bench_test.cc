// bench-serve's load generator against the fake server: counts, errors, prompts.
#include "client/lib/serve_bench.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "tests/client/fake_accllm_server.h"

namespace accllm::client {
namespace {

using ::accllm::testing::FakeAccllmServer;
using ::testing::HasSubstr;

std::unique_ptr<Client> ConnectTo(const FakeAccllmServer& server) {
  absl::StatusOr<std::unique_ptr<Client>> c = Client::Connect(server.address());
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? *std::move(c) : nullptr;
}

TEST(ServeBenchTest, CountsRequestsTokensAndLatencies) {
  FakeAccllmServer server;
  std::unique_ptr<Client> client = ConnectTo(server);
  ASSERT_NE(client, nullptr);
  ServeBenchOptions options{.model = "tiny",
                            .concurrency = 3,
                            .requests = 12,
                            .prompt_tokens = 5,
                            .gen_tokens = 4,
                            .seed = 7};
  absl::StatusOr<ServeBenchReport> r = RunServeBench(*client, options);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->completed, 12);
  EXPECT_EQ(r->errors, 0);
  EXPECT_EQ(r->first_error, "");
  EXPECT_EQ(r->output_tokens, 12 * 4);
  EXPECT_EQ(r->prompt_tokens, 12 * 5);
  EXPECT_GT(r->wall_s, 0);
  EXPECT_NEAR(r->requests_per_s, 12 / r->wall_s, 1e-6);
  EXPECT_NEAR(r->output_tokens_per_s, 48 / r->wall_s, 1e-6);
  EXPECT_NEAR(r->prompt_tokens_per_s, 60 / r->wall_s, 1e-6);
  for (double v :
       {r->ttft_p50_s, r->ttft_p90_s, r->ttft_p99_s, r->itl_p50_s, r->itl_p90_s, r->itl_p99_s}) {
    EXPECT_FALSE(std::isnan(v));
    EXPECT_GE(v, 0);
  }
  EXPECT_LE(r->ttft_p50_s, r->ttft_p99_s);
  EXPECT_LE(r->itl_p50_s, r->itl_p99_s);

  const FakeAccllmServer::Observed seen = server.observed();
  EXPECT_EQ(seen.generate_calls, 12);
  EXPECT_GE(seen.min_prompt_id, 3);  // ids in [3, vocab)
  EXPECT_LT(seen.max_prompt_id, 100);
  EXPECT_EQ(seen.ignore_eos_false, 0);
  EXPECT_EQ(seen.last_max_tokens, 4);
}

TEST(ServeBenchTest, OneTokenPerRequestHasNoInterTokenSamples) {
  FakeAccllmServer server;
  std::unique_ptr<Client> client = ConnectTo(server);
  ASSERT_NE(client, nullptr);
  absl::StatusOr<ServeBenchReport> r = RunServeBench(*client, {.model = "",
                                                               .concurrency = 2,
                                                               .requests = 3,
                                                               .prompt_tokens = 2,
                                                               .gen_tokens = 1,
                                                               .seed = 0});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->completed, 3);
  EXPECT_FALSE(std::isnan(r->ttft_p50_s));
  EXPECT_TRUE(std::isnan(r->itl_p50_s));
  // Empty model: prompts fit the smallest ready vocabulary (flaky's 50).
  EXPECT_LT(server.observed().max_prompt_id, 50);
}

TEST(ServeBenchTest, CountsErrorsAndKeepsTheFirstMessage) {
  FakeAccllmServer server;
  std::unique_ptr<Client> client = ConnectTo(server);
  ASSERT_NE(client, nullptr);
  absl::StatusOr<ServeBenchReport> r = RunServeBench(*client, {.model = "flaky",
                                                               .concurrency = 4,
                                                               .requests = 12,
                                                               .prompt_tokens = 3,
                                                               .gen_tokens = 2,
                                                               .seed = 1});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->errors, 3);  // every 4th call fails
  EXPECT_EQ(r->completed, 9);
  EXPECT_EQ(r->output_tokens, 9 * 2);
  EXPECT_THAT(r->first_error, HasSubstr("injected failure"));
  EXPECT_THAT(r->first_error, HasSubstr("INTERNAL"));
  EXPECT_LT(server.observed().max_prompt_id, 50);
}

TEST(ServeBenchTest, UnknownModelAndBadOptionsFailUpFront) {
  FakeAccllmServer server;
  std::unique_ptr<Client> client = ConnectTo(server);
  ASSERT_NE(client, nullptr);
  ServeBenchOptions options;
  options.model = "nope";
  absl::StatusOr<ServeBenchReport> unknown = RunServeBench(*client, options);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  options.model = "tiny";
  options.concurrency = 0;
  absl::StatusOr<ServeBenchReport> bad = RunServeBench(*client, options);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.status().message(), HasSubstr("--concurrency"));
  EXPECT_EQ(server.observed().generate_calls, 0);
}

}  // namespace
}  // namespace accllm::client
