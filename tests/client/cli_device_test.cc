// `accllm run` and `bench-engine` on the emulated FPGA card as a user runs them: the same ids
// as on the CPU, the card's counters in the JSON, and refusals that say why.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "nlohmann/json.hpp"                // nlohmann::json
#include "tests/support/llama2c_fixture.h"  // WriteRandomLlama2c
#include "tests/support/test_env.h"         // RunAccllm, TempDir

namespace accllm {
namespace {

using ::accllm::testing::CommandResult;
using ::accllm::testing::TempDir;
using ::testing::HasSubstr;

CommandResult Accllm(const std::string& args) { return testing::RunAccllm(args); }

class CliDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::Llama2cShape shape;
    shape.dim = 64;
    shape.hidden_dim = 160;
    shape.vocab_size = 128;
    shape.seq_len = 256;
    testing::WriteRandomLlama2c(tmp_ / "m.bin", shape, 9, 0.3f);
    CommandResult convert = Accllm("convert --from llama2c --in " + (tmp_ / "m.bin").string() +
                                   " --out " + (tmp_ / "float").string());
    ASSERT_EQ(convert.exit_code, 0) << convert.err;
    CommandResult quantize = Accllm(
        "quantize --model " + (tmp_ / "float").string() + " --out " + (tmp_ / "w4").string() +
        " --weights w4 --group 32 --method rtn --activations a8 --kv 4 --calib-samples 1"
        " --calib-length 2");
    ASSERT_EQ(quantize.exit_code, 0) << quantize.err;
  }

  TempDir tmp_;
};

TEST_F(CliDeviceTest, RunOnTheEmulatedCardPrintsTheCpusIds) {
  for (const std::string sampling : {"--temperature 0", "--temperature 0.8 --seed 7"}) {
    const std::string args = "run --model " + (tmp_ / "w4").string() +
                             " --prompt-ids '1 5 9 33' --max-tokens 40 --ids --ignore-eos " +
                             sampling + " --attention lambda:2,16";
    CommandResult cpu = Accllm(args + " --device cpu");
    CommandResult card = Accllm(args + " --device fpga-emu");
    ASSERT_EQ(cpu.exit_code, 0) << cpu.err;
    ASSERT_EQ(card.exit_code, 0) << card.err;
    EXPECT_EQ(card.out, cpu.out) << sampling;
  }
}

TEST_F(CliDeviceTest, BenchEngineReportsWhatTheCardCounted) {
  CommandResult r = Accllm("bench-engine --model " + (tmp_ / "w4").string() +
                           " --device fpga-emu --batch 2 --prompt-tokens 8 --gen-tokens 4"
                           " --threads 1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["device"], "fpga-emu");
  EXPECT_EQ(j["device_launches_per_step"].get<double>(), 1.0);  // one launch per decode step
  // Per token: at least the weights (streamed once per step, shared by the batch of 2).
  EXPECT_GT(j["device_bytes_per_token"].get<double>(),
            j["weight_bytes_per_token"].get<double>() / 2);
  EXPECT_GT(j["device_kernel_ms_per_step"].get<double>(), 0);
}

// Issue 16's breakdown: every phase of the CPU forward pass is reported per decode step, none
// negative, and with "other" they add up to the step (the emulated card reports none).
TEST_F(CliDeviceTest, BenchEngineBreaksTheCpuStepIntoPhases) {
  CommandResult r = Accllm("bench-engine --model " + (tmp_ / "w4").string() +
                           " --device cpu --batch 2 --prompt-tokens 8 --gen-tokens 4"
                           " --threads 1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  for (const char* key : {"phases_ms", "prefill_phases_ms"}) {
    const nlohmann::json& phases = j[key];
    for (const char* phase : {"embed", "norm", "qkv", "rope", "kv_store", "attention", "out_proj",
                              "residual", "gate_up", "swiglu", "down", "head", "other"}) {
      ASSERT_TRUE(phases.contains(phase)) << key << " lacks " << phase;
    }
    double sum = 0;
    for (const auto& [name, ms] : phases.items()) {
      if (name != "other") {
        EXPECT_GE(ms.get<double>(), 0.0) << key << " " << name;
      }
      sum += ms.get<double>();
    }
    const double step_ms = key == std::string("phases_ms")
                               ? j["decode_step_ms"].get<double>()
                               : 1e3 * j["batch"].get<double>() * j["prompt_tokens"].get<double>() /
                                     j["prefill_tok_s"].get<double>();
    EXPECT_NEAR(sum, step_ms, 1e-6 * step_ms + 1e-9) << key;
  }
  EXPECT_GT(j["phases_ms"]["qkv"].get<double>(), 0.0);
  CommandResult card = Accllm("bench-engine --model " + (tmp_ / "w4").string() +
                              " --device fpga-emu --batch 1 --prompt-tokens 4 --gen-tokens 2"
                              " --threads 1 --json");
  ASSERT_EQ(card.exit_code, 0) << card.err;
  EXPECT_TRUE(nlohmann::json::parse(card.out)["phases_ms"].empty());
}

TEST_F(CliDeviceTest, RefusalsSayWhy) {
  CommandResult float_model = Accllm("run --model " + (tmp_ / "float").string() +
                                     " --prompt-ids 1 --max-tokens 2 --device fpga-emu");
  EXPECT_NE(float_model.exit_code, 0);
  EXPECT_THAT(float_model.err, HasSubstr("float model"));
  CommandResult bad = Accllm("run --model " + (tmp_ / "w4").string() +
                             " --prompt-ids 1 --max-tokens 2 --device tpu");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err, HasSubstr("fpga-emu"));
  CommandResult no_xclbin = Accllm("run --model " + (tmp_ / "w4").string() +
                                   " --prompt-ids 1 --max-tokens 2 --device fpga:0");
  EXPECT_NE(no_xclbin.exit_code, 0);
  EXPECT_THAT(no_xclbin.err, HasSubstr("--xclbin"));
}

}  // namespace
}  // namespace accllm
