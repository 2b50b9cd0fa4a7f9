// Runs closures one after another on its own thread, so long work (a step, a
// model load) never blocks gRPC's callback threads.
#ifndef ACCLLM_COMMON_SERIAL_EXECUTOR_H_
#define ACCLLM_COMMON_SERIAL_EXECUTOR_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace accllm {

class SerialExecutor {
 public:
  SerialExecutor();
  // Runs what was queued, then joins.
  ~SerialExecutor();
  SerialExecutor(const SerialExecutor&) = delete;
  SerialExecutor& operator=(const SerialExecutor&) = delete;

  void Post(std::function<void()> work);

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace accllm

#endif  // ACCLLM_COMMON_SERIAL_EXECUTOR_H_
