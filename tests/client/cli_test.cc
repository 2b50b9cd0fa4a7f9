// The `accllm` binary as a user runs it: exit codes, stdout, stderr.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "absl/strings/str_split.h"
#include "tests/support/llama2c_fixture.h"
#include "tests/support/test_env.h"

namespace accllm {
namespace {

using ::accllm::testing::BinDir;
using ::accllm::testing::CommandResult;
using ::accllm::testing::RunCommand;
using ::accllm::testing::TempDir;
using ::testing::HasSubstr;

CommandResult Accllm(const std::string& args) { return testing::RunAccllm(args); }

TEST(CliTest, Stories260KConvertThenRunReproducesTheReference) {
  ACCLLM_REQUIRE_STORIES260K(dir);
  TempDir tmp;
  CommandResult convert = Accllm("convert --from llama2c --in " +
                                 (dir / "stories260K.bin").string() + " --out " +
                                 (tmp / "m").string());
  ASSERT_EQ(convert.exit_code, 0) << convert.err;
  CommandResult run = Accllm("run --model " + (tmp / "m").string() +
                             " --prompt-ids 1 --max-tokens 256 --temperature 0 --ids");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::ifstream ref(dir / "reference" / "greedy_from_bos.txt");
  std::string expected;
  for (std::string id; ref >> id;) expected += (expected.empty() ? "" : " ") + id;
  EXPECT_EQ(run.out, expected + "\n");
}

TEST(CliTest, SynthThenRunTextAndIds) {
  TempDir tmp;
  CommandResult synth = Accllm("synth --shape tiny --seed 2 --out " + (tmp / "m").string());
  ASSERT_EQ(synth.exit_code, 0) << synth.err;
  CommandResult text = Accllm("run --model " + (tmp / "m").string() +
                              " --prompt 'Once upon a time' --max-tokens 12 --seed 5");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_FALSE(text.out.empty());
  EXPECT_THAT(text.err, HasSubstr("tok/s"));
  CommandResult ids = Accllm("run --model " + (tmp / "m").string() +
                             " --prompt-ids '1 50 60' --max-tokens 12 --seed 5 --ids");
  ASSERT_EQ(ids.exit_code, 0) << ids.err;
  std::vector<std::string> tokens = absl::StrSplit(ids.out.substr(0, ids.out.size() - 1), ' ');
  EXPECT_LE(tokens.size(), 12u);
  EXPECT_EQ(ids.out.back(), '\n');
  // Same seed, same output.
  EXPECT_EQ(Accllm("run --model " + (tmp / "m").string() +
                   " --prompt-ids '1 50 60' --max-tokens 12 --seed 5 --ids")
                .out,
            ids.out);
}

TEST(CliTest, SynthThenPerplexityOfTextAndIds) {
  TempDir tmp;
  ASSERT_EQ(Accllm("synth --shape tiny --seed 2 --out " + (tmp / "m").string()).exit_code, 0);
  const std::string model = " --model " + (tmp / "m").string();
  testing::WriteFileOrDie(tmp / "t.txt", "Once upon a time there was a small model.");
  CommandResult text =
      Accllm("perplexity" + model + " --text-file " + (tmp / "t.txt").string() + " --context 8");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("nll "));
  EXPECT_THAT(text.out, HasSubstr("ppl "));
  EXPECT_THAT(text.out, HasSubstr("windows "));
  testing::WriteFileOrDie(tmp / "t.ids", "1 50 60 70 80 90 100");
  CommandResult json = Accllm("perplexity" + model + " --ids-file " + (tmp / "t.ids").string() +
                              " --context 3 --batch 2 --json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  // 7 ids in windows of 3: 3 + 3 + a 1-token tail that is dropped; 2 predicted per window.
  EXPECT_THAT(json.out, HasSubstr("\"tokens\":4"));
  EXPECT_THAT(json.out, HasSubstr("\"windows\":2"));
  CommandResult bad = Accllm("perplexity" + model + " --ids-file " + (tmp / "t.ids").string() +
                             " --attention sparse");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--attention"));
  CommandResult missing = Accllm("perplexity" + model + " --ids-file " + (tmp / "no.ids").string());
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("--ids-file"));
}

TEST(CliTest, HelpForEveryCommand) {
  for (const char* command : {"run", "convert", "synth", "perplexity"}) {
    CommandResult help = Accllm(std::string(command) + " --help");
    EXPECT_EQ(help.exit_code, 0) << command;
    EXPECT_THAT(help.out, HasSubstr("usage: accllm " + std::string(command)));
  }
  CommandResult top = Accllm("--help");
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_THAT(top.out, HasSubstr("convert"));
  EXPECT_THAT(Accllm("run --help").out, HasSubstr("--max-tokens"));
}

TEST(CliTest, UsageErrorsGoToStderrWithNonZeroExit) {
  TempDir tmp;
  testing::WriteRandomLlama2c(tmp / "m.bin", {}, 1);
  ASSERT_EQ(Accllm("convert --from llama2c --in " + (tmp / "m.bin").string() + " --out " +
                   (tmp / "m").string())
                .exit_code,
            0);
  const std::string model = " --model " + (tmp / "m").string();
  struct Case {
    std::string args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "usage"},
      {"frobnicate", "unknown command"},
      {"run --prompt-ids 1", "--model is required"},
      {"run" + model, "exactly one of --prompt and --prompt-ids"},
      {"run" + model + " --prompt-ids '1 64'", "token id 64 is outside the vocabulary"},
      {"run" + model + " --prompt-ids '1 x'", "\"x\" is not a token id"},
      {"run" + model + " --prompt hello", "has no tokenizer"},
      {"run" + model + " --prompt-ids 1 --top-p 3", "top_p"},
      {"run" + model + " --prompt-ids 1 --shape tiny", "--shape is not a flag of this command"},
      {"run" + model + " --prompt-ids 1 --bogus", "bogus"},
      {"run --model /nonexistent --prompt-ids 1", "/nonexistent"},
      {"convert --from onnx --in " + (tmp / "m.bin").string() + " --out x", "llama2c or hf"},
      {"convert --from llama2c --in /nope.bin --out x", "/nope.bin"},
      {"convert --from llama2c --in " + (tmp / "m.bin").string(), "--out is required"},
      {"convert --from hf --in " + (tmp / "m.bin").string() + " --out " + (tmp / "o").string(),
       "config.json"},
      {"synth --shape huge --out x", "unknown shape"},
      {"synth --shape tiny --out x --dtype f8", "--dtype"},
  };
  for (const Case& c : cases) {
    CommandResult r = Accllm(c.args);
    EXPECT_NE(r.exit_code, 0) << c.args;
    EXPECT_THAT(r.err, HasSubstr(c.message)) << c.args;
    EXPECT_LT(r.exit_code, 128) << "crashed: " << c.args;
  }
}

TEST(CliTest, CorruptCheckpointFailsCleanly) {
  TempDir tmp;
  testing::WriteFileOrDie(tmp / "bad.bin", std::string(100, '\x07'));
  CommandResult r = Accllm("convert --from llama2c --in " + (tmp / "bad.bin").string() +
                           " --out " + (tmp / "m").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("bad.bin"));
}

}  // namespace
}  // namespace accllm
