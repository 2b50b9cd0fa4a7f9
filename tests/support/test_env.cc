#include "tests/support/test_env.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace accllm::testing {

namespace fs = std::filesystem;

std::optional<fs::path> Stories260KDir() {
  const char* env = std::getenv("ACCLLM_SHARED_DIR");
  const fs::path shared = env != nullptr ? fs::path(env) : fs::path(ACCLLM_DEFAULT_SHARED_DIR);
  const fs::path dir = shared / "models" / "stories260K";
  if (fs::exists(dir / "stories260K.bin")) return dir;
  return std::nullopt;
}

std::optional<fs::path> SharedModelDir(const std::string& name) {
  const char* env = std::getenv("ACCLLM_SHARED_DIR");
  const fs::path shared = env != nullptr ? fs::path(env) : fs::path(ACCLLM_DEFAULT_SHARED_DIR);
  const fs::path dir = shared / "models" / name;
  if (fs::is_directory(dir)) return dir;
  return std::nullopt;
}

CommandResult RunAccllm(const std::string& args) {
  return RunCommand((BinDir() / "accllm").string() + " " + args);
}

fs::path BinDir() {
  const char* env = std::getenv("ACCLLM_BIN_DIR");
  return env != nullptr ? fs::path(env) : fs::path(ACCLLM_DEFAULT_BIN_DIR);
}

TempDir::TempDir() {
  static std::atomic<int> counter{0};
  const char* base = std::getenv("TEST_TMPDIR");
  const fs::path root = base != nullptr ? fs::path(base) : fs::temp_directory_path();
  path_ = root / ("accllm-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::remove_all(path_);
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  // ACCLLM_KEEP_TEST_DIRS=1 keeps them (daemon logs of integration tests).
  if (const char* keep = std::getenv("ACCLLM_KEEP_TEST_DIRS"); keep != nullptr && *keep == '1') {
    return;
  }
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string ReadFileOrDie(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFileOrDie(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  EXPECT_TRUE(out.good()) << "cannot write " << path;
}

CommandResult RunCommand(const std::string& command) {
  TempDir tmp;
  const fs::path out = tmp / "stdout", err = tmp / "stderr";
  const std::string full = command + " >" + out.string() + " 2>" + err.string() + " </dev/null";
  const int status = std::system(full.c_str());
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = ReadFileOrDie(out);
  result.err = ReadFileOrDie(err);
  return result;
}

}  // namespace accllm::testing
