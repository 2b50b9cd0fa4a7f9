// Parsers that only read from a path are fuzzed through one scratch file per process:
// libFuzzer runs inputs one at a time, so rewriting the same file is enough.
#ifndef ACCLLM_TESTS_FUZZ_FUZZ_FILE_H_
#define ACCLLM_TESTS_FUZZ_FUZZ_FILE_H_

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace accllm::fuzz {

// A per-process scratch directory, removed at exit.
inline const std::filesystem::path& ScratchDir() {
  static const std::filesystem::path dir = [] {
    std::filesystem::path d = std::filesystem::temp_directory_path() /
                              ("accllm-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(ScratchDir(), ec);
    });
    return d;
  }();
  return dir;
}

// Writes `bytes` to ScratchDir()/name and returns the path.
inline std::filesystem::path WriteScratch(std::string_view name, const uint8_t* data, size_t size) {
  const std::filesystem::path path = ScratchDir() / name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

}  // namespace accllm::fuzz

#endif  // ACCLLM_TESTS_FUZZ_FUZZ_FILE_H_
