// The embedded default: with no workers configured, accllm-server runs one
// accllm-worker child that registers back with it, and starts it again (with
// backoff) whenever it dies.
#ifndef ACCLLM_SERVER_LOCAL_WORKER_H_
#define ACCLLM_SERVER_LOCAL_WORKER_H_

#include <sys/types.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace accllm {

class LocalWorker {
 public:
  // `argv` is the full command line (argv[0] is the binary's path).
  explicit LocalWorker(std::vector<std::string> argv);
  ~LocalWorker();  // SIGTERM to the child, then waits for it

  void Start();
  pid_t pid() const;
  int restarts() const;

 private:
  void Supervise();
  pid_t Spawn();

  std::vector<std::string> argv_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  pid_t pid_ = -1;
  int restarts_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace accllm

#endif  // ACCLLM_SERVER_LOCAL_WORKER_H_
