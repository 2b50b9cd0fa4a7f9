// Where tests find data and binaries, and scratch directories that clean up.
#ifndef ACCLLM_TESTS_SUPPORT_TEST_ENV_H_
#define ACCLLM_TESTS_SUPPORT_TEST_ENV_H_

#include <filesystem>
#include <optional>
#include <string>

namespace accllm::testing {

// ../shared/models/stories260K, or nullopt when this machine has no shared/ folder.
std::optional<std::filesystem::path> Stories260KDir();

// Skips the current test with a message when stories260K is absent.
#define ACCLLM_REQUIRE_STORIES260K(dir_var)                                      \
  auto dir_var##_opt = ::accllm::testing::Stories260KDir();                      \
  if (!dir_var##_opt) GTEST_SKIP() << "../shared/models/stories260K not found; " \
                                      "set ACCLLM_SHARED_DIR to run this test"; \
  const std::filesystem::path dir_var = *dir_var##_opt

// ../shared/models/NAME (a directory with config.json or NAME's files), or nullopt.
std::optional<std::filesystem::path> SharedModelDir(const std::string& name);

// build/bin, where accllm and the daemons live.
std::filesystem::path BinDir();

// A fresh directory under the test temp dir, removed when destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Reads/writes a whole file (test convenience; fails the test on error).
std::string ReadFileOrDie(const std::filesystem::path& path);
void WriteFileOrDie(const std::filesystem::path& path, const std::string& bytes);

// Runs a shell command, returns its exit code and captured stdout/stderr.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
CommandResult RunCommand(const std::string& command);
// Runs build/bin/accllm with `args` (a shell command line).
CommandResult RunAccllm(const std::string& args);

}  // namespace accllm::testing

#endif  // ACCLLM_TESTS_SUPPORT_TEST_ENV_H_
