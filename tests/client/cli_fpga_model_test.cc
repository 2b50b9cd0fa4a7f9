// `accllm fpga-model` as a user runs it: the table, the JSON keys, and one-line errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nlohmann/json.hpp"
#include "tests/support/test_env.h"

namespace accllm {
namespace {

using ::accllm::testing::BinDir;
using ::accllm::testing::CommandResult;
using ::accllm::testing::RunCommand;
using ::accllm::testing::TempDir;
using ::testing::HasSubstr;

CommandResult FpgaModel(const std::string& args) {
  return testing::RunAccllm("fpga-model " + args);
}

TEST(CliFpgaModelTest, Llama2_7bJsonHasEveryKey) {
  CommandResult r = FpgaModel("--shape llama2-7b --sparsity 2:4 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  for (const char* key : {"decode_tok_s", "prefill_tok_s", "hbm_bytes_per_token", "bound",
                          "dsp_used", "tok_per_joule", "breakdown", "assumptions"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_NEAR(j["decode_tok_s"].get<double>(), 164.0, 0.15 * 164.0);
  EXPECT_EQ(j["bound"], "hbm");
  const nlohmann::json& b = j["breakdown"];
  EXPECT_EQ(b["total"].get<int64_t>(), b["weights"].get<int64_t>() + b["head"].get<int64_t>() +
                                           b["norms"].get<int64_t>() +
                                           b["embedding"].get<int64_t>() +
                                           b["kv_read"].get<int64_t>() +
                                           b["kv_write"].get<int64_t>());
  EXPECT_GE(j["assumptions"].size(), 8u);
}

TEST(CliFpgaModelTest, TableNamesTheSources) {
  CommandResult r = FpgaModel("--shape tiny --context 256 --batch 2 --power-w 30");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("decode"));
  EXPECT_THAT(r.out, HasSubstr("Shuhai"));
  EXPECT_THAT(r.out, HasSubstr("launch"));
}

TEST(CliFpgaModelTest, ReadsAModelDirectory) {
  TempDir tmp;
  CommandResult synth =
      RunCommand((BinDir() / "accllm").string() + " synth --shape tiny --out " + (tmp / "m").string());
  ASSERT_EQ(synth.exit_code, 0) << synth.err;
  CommandResult r = FpgaModel("--model " + (tmp / "m").string() + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(nlohmann::json::parse(r.out)["decode_tok_s"].get<double>(), 0);
}

TEST(CliFpgaModelTest, ErrorsAreOneLineAndNonZero) {
  for (const char* args : {"--card u250", "--shape llama3-70b", "--model /nonexistent/dir",
                           "--clock-mhz -3", "--batch 0", "--context -1", "--weights w5"}) {
    CommandResult r = FpgaModel(args);
    EXPECT_NE(r.exit_code, 0) << args;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << ": " << r.err;
    EXPECT_TRUE(r.out.empty()) << args;
  }
}

}  // namespace
}  // namespace accllm
