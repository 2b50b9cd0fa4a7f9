// The scheduler reads time only through an injected Clock, so deadlines and
// aging are tested deterministically with FakeClock.
#ifndef ACCLLM_SCHEDULER_CLOCK_H_
#define ACCLLM_SCHEDULER_CLOCK_H_

#include <chrono>  // std::chrono::steady_clock

namespace accllm::scheduler {

using TimePoint = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

// The process's monotonic clock.
class SteadyClock : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
};

// Time moves only when a test says so.
class FakeClock : public Clock {
 public:
  TimePoint Now() const override { return now_; }
  void Advance(Duration d) { now_ += d; }
  void Set(TimePoint t) { now_ = t; }

 private:
  TimePoint now_{};
};

}  // namespace accllm::scheduler

#endif  // ACCLLM_SCHEDULER_CLOCK_H_
