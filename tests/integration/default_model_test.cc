// `make serve`'s setup: accllm-server serving the shipped default model
// (models/docs27m-w4) answers a Generate with English text, the same text `accllm run` writes.
#include <cctype>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "tests/integration/serving_fixture.h"  // ServingTest

namespace accllm::testing {
namespace {

class DefaultModelTest : public ServingTest {};

std::string Cli(const std::string& args) { return (BinDir() / "accllm").string() + " " + args; }

TEST_F(DefaultModelTest, ServerAnswersAGenerateWithTheTextAccllmRunWrites) {
  const std::filesystem::path shipped = std::filesystem::path(ACCLLM_MODELS_DIR) / "docs27m-w4";
  ASSERT_TRUE(std::filesystem::exists(shipped / "config.json")) << shipped;
  // The repository holds a link to it, as `make serve`'s models/ holds the directory.
  std::filesystem::create_directories(repo());
  std::filesystem::create_directory_symlink(shipped, repo() / "docs27m-w4");
  auto server = StartServer("server", {"--default-model=docs27m-w4"});
  ASSERT_TRUE(server->ok());
  auto c = Connect(*server);
  ASSERT_TRUE(WaitReady(*c, "docs27m-w4"));

  const std::string flags =
      "--prompt 'The git commit command' --max-tokens 32 --temperature 0 --ignore-eos";
  // No --model: the server's default model answers.
  const CommandResult generate =
      RunCommand(Cli("generate --server " + server->grpc_address() + " " + flags));
  const CommandResult run = RunCommand(Cli("run --model " + shipped.string() + " " + flags));
  ASSERT_EQ(generate.exit_code, 0) << generate.err;
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(generate.out, run.out);
  // Text, not raw bytes: mostly ASCII letters and spaces.
  int letters = 0, spaces = 0, non_ascii = 0;
  for (unsigned char ch : generate.out) {
    letters += std::isalpha(ch) != 0;
    spaces += ch == ' ';
    non_ascii += ch >= 0x80;
  }
  EXPECT_EQ(non_ascii, 0) << generate.out;
  EXPECT_GE(letters, static_cast<int>(generate.out.size() / 2)) << generate.out;
  EXPECT_GE(spaces, 5) << generate.out;
}

}  // namespace
}  // namespace accllm::testing
