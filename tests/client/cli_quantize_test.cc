// `accllm quantize` as a user runs it: the stories260K model end to end, help, and refusals.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "tests/support/llama2c_fixture.h"  // WriteRandomLlama2c
#include "tests/support/test_env.h"         // RunCommand, BinDir, TempDir

namespace accllm {
namespace {

using ::accllm::testing::BinDir;
using ::accllm::testing::CommandResult;
using ::accllm::testing::ReadFileOrDie;
using ::accllm::testing::RunCommand;
using ::accllm::testing::TempDir;
using ::accllm::testing::WriteFileOrDie;
using ::testing::HasSubstr;
using ::testing::Not;

CommandResult Accllm(const std::string& args) { return testing::RunAccllm(args); }

// A small random float model directory (2 layers, dim 32, hidden 80).
std::string RandomModel(const TempDir& tmp) {
  testing::WriteRandomLlama2c(tmp / "m.bin", {}, 5);
  CommandResult convert = Accllm("convert --from llama2c --in " + (tmp / "m.bin").string() +
                                 " --out " + (tmp / "float").string());
  EXPECT_EQ(convert.exit_code, 0) << convert.err;
  return (tmp / "float").string();
}

TEST(CliQuantizeTest, Stories260KW2GptqBeatsRtnOnEveryLayer) {
  ACCLLM_REQUIRE_STORIES260K(dir);
  TempDir tmp;
  CommandResult convert =
      Accllm("convert --from llama2c --in " + (dir / "stories260K.bin").string() + " --out " +
             (tmp / "f").string());
  ASSERT_EQ(convert.exit_code, 0) << convert.err;
  CommandResult q = Accllm("quantize --model " + (tmp / "f").string() + " --out " +
                           (tmp / "q").string() + " --weights w2 --group 64 --method gptq");
  ASSERT_EQ(q.exit_code, 0) << q.err;
  // Not a terminal: plain log lines, no carriage-return progress bar.
  EXPECT_THAT(q.err, Not(HasSubstr("\r")));
  EXPECT_THAT(q.err, HasSubstr("quantizing 35/35"));
  int rows = 0;
  std::istringstream table(q.out);
  for (std::string line; std::getline(table, line);) {
    if (line.rfind("model.layers.", 0) != 0) continue;
    ++rows;
    std::istringstream fields(line);
    std::string name, w, scheme, group, method;
    double bits, err, rtn, ratio;
    fields >> name >> w >> scheme >> group >> method >> bits >> err >> rtn >> ratio;
    EXPECT_EQ(w, "w2") << line;
    EXPECT_LT(ratio, 1.0) << line;
    EXPECT_LE(bits, 2.6) << line;
  }
  EXPECT_EQ(rows, 35);
  EXPECT_THAT(q.out, HasSubstr("average bits per weight"));
  const std::string config = ReadFileOrDie(tmp / "q" / "config.json");
  EXPECT_THAT(config, HasSubstr("\"quantization_config\""));
  EXPECT_THAT(config, HasSubstr("\"quant_method\": \"accllm\""));

  // Quantizing the result again is refused.
  CommandResult again =
      Accllm("quantize --model " + (tmp / "q").string() + " --out " + (tmp / "q2").string());
  EXPECT_NE(again.exit_code, 0);
  EXPECT_THAT(again.err, HasSubstr("already quantized"));
}

TEST(CliQuantizeTest, HelpListsItsFlags) {
  CommandResult help = Accllm("quantize --help");
  ASSERT_EQ(help.exit_code, 0);
  for (const char* flag :
       {"--weights", "--group", "--scheme", "--sparsity", "--zero-point", "--method", "--rotate", "--activations",
        "--kv", "--kv-rotate", "--sinks", "--calib-samples", "--calib-length", "--calib-file",
        "--layer-config", "--embedding-bits", "--head-bits"}) {
    EXPECT_THAT(help.out, HasSubstr(flag));
  }
  EXPECT_THAT(Accllm("--help").out, HasSubstr("quantize"));
}

TEST(CliQuantizeTest, CalibFileRotationSparsityAndLayerConfig) {
  TempDir tmp;
  const std::string model = RandomModel(tmp);
  WriteFileOrDie(tmp / "calib.txt", "1 5 9 13 2 7\n1 3 3 3 8 60 61\n\n1 2 3 4 5 6 7 8\n1 9 9\n");
  WriteFileOrDie(tmp / "layers.json",
                 R"({"layers": {"model.layers.*.mlp.down_proj": {"bits": 8, "sparsity": "dense"},
                                "model.layers.0.self_attn.v_proj": "float"}})");
  CommandResult q =
      Accllm("quantize --model " + model + " --out " + (tmp / "q").string() +
             " --weights w4 --sparsity 2:4 --rotate --kv 8 --sinks 2 --calib-file " +
             (tmp / "calib.txt").string() + " --layer-config " + (tmp / "layers.json").string());
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_THAT(q.out, HasSubstr("model.layers.0.self_attn.v_proj      float"));
  EXPECT_THAT(q.out, HasSubstr("w8 uniform g64 gptq rot"));
  EXPECT_THAT(q.out, HasSubstr("w4 uniform g64 2:4 int-zero gptq rot"));  // auto zero point
  const std::string config = ReadFileOrDie(tmp / "q" / "config.json");
  EXPECT_THAT(config, HasSubstr("\"zero_point\": \"integer\""));
  EXPECT_THAT(config, HasSubstr("\"rotations\""));
  EXPECT_THAT(config, HasSubstr("\"sink_tokens\": 2"));
}

TEST(CliQuantizeTest, RtnCalibratesOnlyWhenSomethingUsesIt) {
  TempDir tmp;
  const std::string model = RandomModel(tmp);
  const std::string base = "quantize --model " + model + " --weights w4 --method rtn --out ";
  CommandResult rtn = Accllm(base + (tmp / "rtn").string());
  ASSERT_EQ(rtn.exit_code, 0) << rtn.err;
  EXPECT_THAT(rtn.err, HasSubstr("RTN needs no calibration"));
  EXPECT_THAT(rtn.err, Not(HasSubstr("self-calibration")));
  EXPECT_THAT(rtn.out, HasSubstr("average bits per weight"));
  EXPECT_THAT(ReadFileOrDie(tmp / "rtn" / "config.json"), HasSubstr("\"quantization_config\""));

  // A calibration source asked for (the error report), or a layer that GPTQ solves.
  WriteFileOrDie(tmp / "calib.txt", "1 5 9 13 2 7\n1 3 3 3 8 60 61\n");
  CommandResult asked = Accllm(base + (tmp / "asked").string() + " --calib-file " +
                               (tmp / "calib.txt").string());
  ASSERT_EQ(asked.exit_code, 0) << asked.err;
  EXPECT_THAT(asked.err, Not(HasSubstr("RTN needs no calibration")));
  WriteFileOrDie(tmp / "layers.json",
                 R"({"layers": {"model.layers.0.mlp.down_proj": {"method": "gptq"}}})");
  CommandResult mixed = Accllm(base + (tmp / "mixed").string() + " --calib-samples 1" +
                               " --layer-config " + (tmp / "layers.json").string());
  ASSERT_EQ(mixed.exit_code, 0) << mixed.err;
  EXPECT_THAT(mixed.err, HasSubstr("self-calibration"));
}

TEST(CliQuantizeTest, BadInputsGiveClearErrors) {
  TempDir tmp;
  const std::string model = RandomModel(tmp);
  const std::string out = " --out " + (tmp / "q").string();
  struct Case {
    std::string args;
    std::string message;
  };
  WriteFileOrDie(tmp / "typo.json", R"({"layers": {"model.layers.7.mlp.down_proj": "float"}})");
  WriteFileOrDie(tmp / "bad.json", R"({"layers": {"model.layers.0.mlp.down_proj": {"bitz": 2}}})");
  WriteFileOrDie(tmp / "calib.txt", "1 2 zebra\n");
  WriteFileOrDie(tmp / "garbage", "");
  for (const Case& c : std::vector<Case>{
           {"--model " + model + out + " --weights w5", "--weights"},
           {"--model " + model + out + " --scheme log", "--scheme"},
           {"--model " + model + out + " --sparsity 1:4", "--sparsity"},
           {"--model " + model + out + " --zero-point half", "--zero-point: must be auto"},
           {"--model " + model + out + " --scheme pow2 --zero-point integer",
            "zero point integer needs the uniform scheme"},
           {"--model " + model + out + " --method awq", "--method"},
           {"--model " + model + out + " --activations a4", "--activations"},
           {"--model " + model + out + " --kv 3", "--kv"},
           {"--model " + model + out + " --embedding-bits 4", "--embedding-bits"},
           {"--model " + model + out + " --calib-length 1", "--calib-length"},
           {"--model " + model + out + " --calib-samples 0", "--calib-samples"},
           {"--model " + model + out + " --group 0", "group"},
           {"--model " + model + out + " --layer-config " + (tmp / "typo.json").string(),
            "model.layers.7.mlp.down_proj"},
           {"--model " + model + out + " --layer-config " + (tmp / "bad.json").string(), "bitz"},
           {"--model " + model + out + " --calib-file " + (tmp / "calib.txt").string(), "zebra"},
           {"--model " + (tmp / "nowhere").string() + out, "nowhere"},
           {"--model " + tmp.path().string() + out, "config.json"},
           {out.substr(1), "--model is required"},
       }) {
    CommandResult r = Accllm("quantize " + c.args);
    EXPECT_NE(r.exit_code, 0) << c.args;
    EXPECT_THAT(r.err, HasSubstr(c.message)) << c.args;
  }
}

}  // namespace
}  // namespace accllm
