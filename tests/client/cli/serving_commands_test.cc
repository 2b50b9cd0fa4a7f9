// The serving commands of the `accllm` binary (generate, models, workers,
// bench-serve): usage errors, an unreachable server, and their output against a
// real gRPC server on loopback running fakes (tests/client/fake_accllm_server.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "nlohmann/json.hpp"
#include "tests/client/fake_accllm_server.h"
#include "tests/support/test_env.h"

namespace accllm {
namespace {

using ::accllm::testing::BinDir;
using ::accllm::testing::CommandResult;
using ::accllm::testing::FakeAccllmServer;
using ::accllm::testing::RunCommand;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// `timeout` turns a hang into a failure instead of a stuck test run.
CommandResult Accllm(const std::string& args) {
  return RunCommand("timeout 60 " + (BinDir() / "accllm").string() + " " + args);
}

TEST(ServingCliTest, UsageErrorsNameTheProblem) {
  struct Case {
    const char* args;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {"generate", "give exactly one of --prompt and --prompt-ids"},
           {"generate --prompt a --prompt-ids 1", "give exactly one of --prompt and --prompt-ids"},
           {"generate --prompt-ids '1 x'", "--prompt-ids: \"x\" is not a token id"},
           {"generate --prompt a --attention wide", "--attention must be"},
           {"generate --prompt a --seed -5", "--seed must be >= 0"},
           {"generate --prompt a --connect-timeout 0",
            "--connect-timeout must be a positive number of seconds"},
           {"generate --prompt a extra", "unexpected argument \"extra\""},
           {"generate --prompt a --json", "--json is not a flag of this command"},
           {"models frobnicate", "unknown subcommand \"frobnicate\""},
           {"models get", "`models get` takes exactly one model name"},
           {"models list extra", "unexpected argument \"extra\""},
           {"workers drain", "`workers drain` takes exactly one worker id"},
           {"workers restart", "unknown subcommand \"restart\""},
           {"bench-serve --concurrency 0", "--concurrency must be at least 1, got 0"},
           {"bench-serve --requests -1", "--requests must be at least 1"},
           {"bench-serve --concurrency 100000", "--concurrency must be at most 4096"},
           {"bench-serve --gen-tokens 0", "--gen-tokens must be at least 1"},
       }) {
    CommandResult r = Accllm(std::string(c.args) + " --server 127.0.0.1:1");
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.message)) << c.args;
    EXPECT_EQ(r.out, "") << c.args;
  }
}

TEST(ServingCliTest, UnreachableServerIsOneLineAndBounded) {
  for (const char* args : {"generate --prompt-ids 1", "models list", "workers", "bench-serve"}) {
    CommandResult r = Accllm(std::string(args) + " --server 127.0.0.1:1 --connect-timeout 0.5");
    EXPECT_EQ(r.exit_code, 1) << args << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr("cannot reach accllm-server at 127.0.0.1:1 (UNAVAILABLE: "))
        << args;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST(ServingCliTest, HelpForTheServingCommands) {
  for (const char* command : {"generate", "models", "workers", "bench-serve"}) {
    CommandResult help = Accllm(std::string(command) + " --help");
    EXPECT_EQ(help.exit_code, 0) << command;
    EXPECT_THAT(help.out, HasSubstr("usage: accllm " + std::string(command)));
    EXPECT_THAT(help.out, HasSubstr("--server"));
  }
  EXPECT_THAT(Accllm("--help").out, HasSubstr("bench-serve"));
}

class ServingCliServerTest : public ::testing::Test {
 protected:
  CommandResult Run(const std::string& args) {
    return Accllm(args + " --server " + server_.address());
  }
  FakeAccllmServer server_;
};

TEST_F(ServingCliServerTest, GenerateIdsPrintsOneLineLikeRun) {
  CommandResult r = Run("generate --prompt-ids '1 2 3' --max-tokens 4 --ids --temperature 0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "10 11 12 13\n");
  EXPECT_THAT(r.err, HasSubstr("3 prompt + 4 generated tokens"));
  EXPECT_THAT(r.err, HasSubstr("finish: length"));
  EXPECT_FALSE(server_.observed().last_had_seed);  // --seed unset: the server picks
}

TEST_F(ServingCliServerTest, GenerateTextStreamsTheText) {
  CommandResult r = Run("generate --prompt 'hello' --max-tokens 3 --seed 4 --model tiny");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "t10 t11 t12 \n");
  EXPECT_TRUE(server_.observed().last_had_seed);
  EXPECT_EQ(server_.observed().last_max_tokens, 3);
}

TEST_F(ServingCliServerTest, InterruptCancelsTheCall) {
  // SIGINT after half a second, while the slow model is still streaming.
  CommandResult r = RunCommand(
      "timeout --preserve-status -s INT 0.5 " + (BinDir() / "accllm").string() +
      " generate --model slow --prompt-ids 1 --max-tokens 100000 --server " + server_.address());
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err, "accllm generate: cancelled (interrupted)\n");
  EXPECT_THAT(r.out, StartsWith("t10 t11 "));
  EXPECT_EQ(r.out.back(), '\n');
  EXPECT_TRUE(server_.WaitForCancelled(1, std::chrono::seconds(10)));
}

TEST_F(ServingCliServerTest, GenerateServerErrorKeepsCodeAndMessage) {
  CommandResult r = Run("generate --prompt-ids 1 --model nope");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "accllm generate: accllm-server at " + server_.address() +
                       ": NOT_FOUND: unknown model \"nope\"\n");
}

TEST_F(ServingCliServerTest, ModelsTableJsonAndStats) {
  CommandResult list = Run("models list");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, StartsWith("NAME"));
  EXPECT_THAT(list.out, HasSubstr("QUANTIZATION"));
  EXPECT_THAT(list.out, HasSubstr("READY"));
  EXPECT_THAT(list.out, HasSubstr("FAILED"));
  EXPECT_THAT(list.out, HasSubstr("config.json: missing field hidden_size"));

  CommandResult json = Run("models --json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const nlohmann::json parsed = nlohmann::json::parse(json.out);
  ASSERT_EQ(parsed["models"].size(), 4u);
  EXPECT_EQ(parsed["models"][0]["name"], "tiny");
  EXPECT_EQ(parsed["models"][0]["state"], "MODEL_STATE_READY");
  EXPECT_EQ(parsed["models"][0]["vocab_size"], 100);

  CommandResult get = Run("models get tiny");
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_THAT(get.out, HasSubstr("vocab_size"));
  CommandResult load = Run("models load broken");
  EXPECT_EQ(load.exit_code, 1);
  EXPECT_THAT(load.err, HasSubstr("FAILED_PRECONDITION: config.json: missing field hidden_size"));
  CommandResult unload = Run("models unload tiny");
  ASSERT_EQ(unload.exit_code, 0) << unload.err;
  EXPECT_THAT(unload.out, HasSubstr("AVAILABLE"));
  CommandResult stats = Run("models stats tiny");
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_THAT(stats.out, HasSubstr("GENERATED_TOKENS"));
  EXPECT_THAT(stats.out, HasSubstr("56"));
}

TEST_F(ServingCliServerTest, WorkersListAndDrain) {
  CommandResult list = Run("workers");
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_THAT(list.out, StartsWith("ID"));
  EXPECT_THAT(list.out, HasSubstr("12/256"));
  EXPECT_THAT(list.out, HasSubstr("41.5"));
  EXPECT_THAT(list.out, HasSubstr("UP"));
  CommandResult drain = Run("workers drain w1");
  ASSERT_EQ(drain.exit_code, 0) << drain.err;
  EXPECT_THAT(drain.out, HasSubstr("DRAINING"));
  CommandResult unknown = Run("workers drain w9");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("NOT_FOUND: unknown worker \"w9\""));
  CommandResult json = Run("workers --json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(nlohmann::json::parse(json.out)["workers"][0]["kv_pages_total"], 256);
}

TEST_F(ServingCliServerTest, BenchServeJsonHasEveryKey) {
  CommandResult r =
      Run("bench-serve --model tiny --concurrency 2 --requests 6 --prompt-tokens 4 "
          "--gen-tokens 3 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  std::set<std::string> keys;
  for (const auto& [key, value] : j.items()) keys.insert(key);
  EXPECT_EQ(keys,
            (std::set<std::string>{
                "concurrency", "requests", "prompt_tokens", "gen_tokens", "ttft_p50_s",
                "ttft_p90_s", "ttft_p99_s", "itl_p50_s", "itl_p90_s", "itl_p99_s", "requests_per_s",
                "output_tokens_per_s", "prompt_tokens_per_s", "errors", "wall_s"}));
  EXPECT_EQ(j["requests"], 6);
  EXPECT_EQ(j["concurrency"], 2);
  EXPECT_EQ(j["errors"], 0);
  EXPECT_GT(j["output_tokens_per_s"].get<double>(), 0);

  CommandResult text = Run("bench-serve --model flaky --requests 8 --gen-tokens 2");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("errors 2"));
  EXPECT_THAT(text.out, HasSubstr("first error"));
  EXPECT_THAT(text.out, HasSubstr("TTFT"));
}

}  // namespace
}  // namespace accllm
