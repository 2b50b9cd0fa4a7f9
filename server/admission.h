// Whether the server takes a new stream now, later, or not at all:
// at most `max_streams` Generate streams run at once; up to `max_waiting` more
// wait in arrival order for a slot; beyond that a stream is refused at once
// with RESOURCE_EXHAUSTED and a retry hint. On SIGTERM it stops admitting,
// lets running streams finish for a while, then hands the rest back
// (UNAVAILABLE: retry elsewhere) and lets the process exit.
#ifndef ACCLLM_SERVER_ADMISSION_H_
#define ACCLLM_SERVER_ADMISSION_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>

#include "absl/status/status.h"  // absl::Status

namespace accllm {

class ServerMetrics;

struct AdmissionLimits {
  int32_t max_streams = 0;  // 0: no limit
  int32_t max_waiting = 0;  // streams queued for a slot beyond max_streams
};

class Admission {
 public:
  // `abort` ends a stream with the given status (drain); `start` begins its
  // work once it holds a slot.
  using Abort = std::function<void(const absl::Status&)>;
  using Start = std::function<void()>;

  explicit Admission(AdmissionLimits limits = {}, ServerMetrics* metrics = nullptr);

  // UNAVAILABLE once draining, RESOURCE_EXHAUSTED when running and waiting
  // streams are both full; else a ticket to pass to Leave. `start` runs before
  // Enter returns when a slot is free, else later, on the thread whose Leave
  // freed a slot (never under the admission lock).
  absl::Status Enter(Abort abort, Start start, uint64_t* ticket);
  // The stream is gone (finished, failed or cancelled, running or waiting).
  void Leave(uint64_t ticket);

  bool draining() const;
  // Stops admitting; waits up to `grace` for streams to end, aborts the rest
  // and waits (briefly) for them to go. Returns how many were aborted.
  int Drain(std::chrono::milliseconds grace);
  int active() const;   // running + waiting
  int waiting() const;

 private:
  struct Entry {
    Abort abort;
    Start start;
    bool running = false;
  };
  void Publish();  // metrics, under mu_

  const AdmissionLimits limits_;
  ServerMetrics* const metrics_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool draining_ = false;
  uint64_t next_ = 1;
  int running_ = 0;
  std::map<uint64_t, Entry> active_;
  std::deque<uint64_t> queue_;  // waiting tickets, oldest first
};

}  // namespace accllm

#endif  // ACCLLM_SERVER_ADMISSION_H_
