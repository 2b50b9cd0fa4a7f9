// A real accllm-server / accllm-worker / prometheus process for integration
// tests: started with posix_spawn, its log captured to a file, its addresses
// read from the ready file it writes; killed (SIGKILL) if still running when
// the object goes away. Each gets its own $TMPDIR, removed with it.
#ifndef ACCLLM_TESTS_INTEGRATION_DAEMON_H_
#define ACCLLM_TESTS_INTEGRATION_DAEMON_H_

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <thread>
#include <string>
#include <vector>

namespace accllm::testing {

class Daemon {
 public:
  // Starts `binary` with `args`. When `ready_file` is set, waits (up to
  // `timeout`) for it and reads "grpc" / "metrics" from it; ok() says whether that worked.
  Daemon(std::string name, const std::filesystem::path& binary, std::vector<std::string> args,
         const std::filesystem::path& log_dir, std::optional<std::filesystem::path> ready_file,
         std::chrono::seconds timeout = std::chrono::seconds(60));
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  bool ok() const { return ok_; }
  pid_t pid() const { return pid_; }
  const std::string& grpc_address() const { return grpc_; }
  const std::string& metrics_address() const { return metrics_; }
  std::string Log() const;  // what it printed so far

  void Signal(int signal_number) const;
  // Waits for it to exit; the exit code (128 + signal when killed), or nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  bool Running();

 private:
  std::string name_;
  std::filesystem::path log_;
  std::filesystem::path tmpdir_;  // its $TMPDIR, removed with it
  pid_t pid_ = -1;
  bool ok_ = false;
  bool reaped_ = false;
  int exit_code_ = -1;
  std::string grpc_;
  std::string metrics_;
};

// A TCP port nobody listens on right now (for programs that cannot bind port 0).
int FreePort();

// GET http://host:port/path over a plain socket; the body, or "" on failure.
std::string HttpGet(const std::string& host_port, const std::string& path);

// Sum of every sample of `name` whose labels include all of `labels` ("k=\"v\"").
double MetricSum(const std::string& text, const std::string& name,
                 const std::vector<std::string>& labels = {});

// Waits until `predicate` holds, polling; false on timeout.
template <typename Predicate>
bool Eventually(Predicate predicate, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return predicate();
}

}  // namespace accllm::testing

#endif  // ACCLLM_TESTS_INTEGRATION_DAEMON_H_
