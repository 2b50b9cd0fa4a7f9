#include "server/local_worker.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "spdlog/spdlog.h"  // spdlog::info

extern char** environ;

namespace accllm {

LocalWorker::LocalWorker(std::vector<std::string> argv) : argv_(std::move(argv)) {}

LocalWorker::~LocalWorker() {
  pid_t pid;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    pid = pid_;
  }
  cv_.notify_all();
  if (pid > 0) kill(pid, SIGTERM);
  if (thread_.joinable()) thread_.join();
}

void LocalWorker::Start() { thread_ = std::thread([this] { Supervise(); }); }

pid_t LocalWorker::pid() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pid_;
}

int LocalWorker::restarts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return restarts_;
}

pid_t LocalWorker::Spawn() {
  std::vector<char*> args;
  for (std::string& a : argv_) args.push_back(a.data());
  args.push_back(nullptr);
  // The child must not inherit the server's blocked termination signals.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], nullptr, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    spdlog::error("cannot start the local worker {}: {}", argv_[0], std::strerror(rc));
    return -1;
  }
  spdlog::info("started local worker (pid {}): {}", pid, argv_[0]);
  return pid;
}

void LocalWorker::Supervise() {
  auto backoff = std::chrono::milliseconds(200);
  for (;;) {
    const auto started = std::chrono::steady_clock::now();
    const pid_t pid = Spawn();
    {
      std::lock_guard<std::mutex> lock(mu_);
      pid_ = pid;
      if (stopping_ && pid > 0) kill(pid, SIGTERM);
    }
    if (pid > 0) {
      int status = 0;
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      std::lock_guard<std::mutex> lock(mu_);
      pid_ = -1;
      if (stopping_) return;
      if (WIFSIGNALED(status)) {
        spdlog::warn("local worker (pid {}) was killed by signal {}; restarting", pid,
                     WTERMSIG(status));
      } else {
        spdlog::warn("local worker (pid {}) exited with status {}; restarting", pid,
                     WEXITSTATUS(status));
      }
      ++restarts_;
    }
    // A worker that ran for a while gets restarted at once; one that keeps
    // crashing at start-up waits longer each time (up to 10 s).
    if (std::chrono::steady_clock::now() - started > std::chrono::seconds(30)) {
      backoff = std::chrono::milliseconds(200);
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, backoff, [this] { return stopping_; })) return;
    backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
  }
}

}  // namespace accllm
