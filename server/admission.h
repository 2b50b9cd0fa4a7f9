// Whether the server still takes new streams, and the streams it has: on
// SIGTERM it stops admitting, lets running streams finish for a while, then
// hands the rest back (UNAVAILABLE: retry elsewhere) and lets the process exit.
#ifndef ACCLLM_SERVER_ADMISSION_H_
#define ACCLLM_SERVER_ADMISSION_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>

#include "absl/status/status.h"  // absl::Status

namespace accllm {

class Admission {
 public:
  // A stream in progress; `abort` ends it with the given status.
  using Abort = std::function<void(const absl::Status&)>;

  // UNAVAILABLE once draining; else a ticket to pass to Leave.
  absl::Status Enter(Abort abort, uint64_t* ticket);
  void Leave(uint64_t ticket);

  bool draining() const;
  // Stops admitting; waits up to `grace` for streams to end, aborts the rest
  // and waits (briefly) for them to go. Returns how many were aborted.
  int Drain(std::chrono::milliseconds grace);
  int active() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool draining_ = false;
  uint64_t next_ = 1;
  std::map<uint64_t, Abort> active_;
};

}  // namespace accllm

#endif  // ACCLLM_SERVER_ADMISSION_H_
