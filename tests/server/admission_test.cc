#include "server/admission.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace accllm {
namespace {

struct Probe {
  int started = 0;
  std::atomic<int> aborts{0};
  std::atomic<absl::StatusCode> code{absl::StatusCode::kOk};
  Admission::Abort abort() {
    return [this](const absl::Status& s) {
      code = s.code();
      ++aborts;
    };
  }
  Admission::Start start() {
    return [this] { ++started; };
  }
};

TEST(AdmissionTest, QueuesBeyondMaxStreamsAndRefusesBeyondTheQueue) {
  Admission admission({.max_streams = 1, .max_waiting = 1});
  Probe a, b, c;
  uint64_t ta = 0, tb = 0, tc = 0;
  ASSERT_TRUE(admission.Enter(a.abort(), a.start(), &ta).ok());
  EXPECT_EQ(a.started, 1);  // a free slot: starts at once
  ASSERT_TRUE(admission.Enter(b.abort(), b.start(), &tb).ok());
  EXPECT_EQ(b.started, 0);  // queued
  EXPECT_EQ(admission.waiting(), 1);
  absl::Status refused = admission.Enter(c.abort(), c.start(), &tc);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(refused.message().find("--max-streams 1"), std::string::npos) << refused;
  EXPECT_NE(refused.message().find("retry"), std::string::npos) << refused;
  EXPECT_EQ(c.started, 0);
  admission.Leave(ta);  // the slot passes to b
  EXPECT_EQ(b.started, 1);
  EXPECT_EQ(admission.waiting(), 0);
  admission.Leave(tb);
  EXPECT_EQ(admission.active(), 0);
}

TEST(AdmissionTest, AWaitingStreamThatLeavesNeverStarts) {
  Admission admission({.max_streams = 1, .max_waiting = 4});
  Probe a, b, c;
  uint64_t ta = 0, tb = 0, tc = 0;
  ASSERT_TRUE(admission.Enter(a.abort(), a.start(), &ta).ok());
  ASSERT_TRUE(admission.Enter(b.abort(), b.start(), &tb).ok());
  ASSERT_TRUE(admission.Enter(c.abort(), c.start(), &tc).ok());
  admission.Leave(tb);  // cancelled while queued
  admission.Leave(ta);
  EXPECT_EQ(b.started, 0);
  EXPECT_EQ(c.started, 1);  // arrival order, skipping the one that left
  admission.Leave(tc);
  admission.Leave(tc);  // twice is harmless
  EXPECT_EQ(admission.active(), 0);
}

TEST(AdmissionTest, NoLimitStartsEverything) {
  Admission admission;
  std::vector<Probe> probes(100);
  std::vector<uint64_t> tickets(100);
  for (size_t i = 0; i < probes.size(); ++i) {
    ASSERT_TRUE(admission.Enter(probes[i].abort(), probes[i].start(), &tickets[i]).ok());
    EXPECT_EQ(probes[i].started, 1);
  }
  EXPECT_EQ(admission.active(), 100);
  for (uint64_t t : tickets) admission.Leave(t);
}

TEST(AdmissionTest, DrainHandsBackWaitingAtOnceAndRunningAfterGrace) {
  Admission admission({.max_streams = 1, .max_waiting = 1});
  Probe a, b, late;
  uint64_t ta = 0, tb = 0, tl = 0;
  ASSERT_TRUE(admission.Enter(a.abort(), a.start(), &ta).ok());
  ASSERT_TRUE(admission.Enter(b.abort(), b.start(), &tb).ok());
  // The streams leave once aborted, as gRPC's OnDone would make them.
  std::thread leaver([&] {
    while (admission.active() > 0) {
      if (b.aborts > 0) admission.Leave(tb);
      if (a.aborts > 0) admission.Leave(ta);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  EXPECT_EQ(admission.Drain(std::chrono::milliseconds(50)), 2);
  leaver.join();
  EXPECT_EQ(a.aborts, 1);
  EXPECT_EQ(b.aborts, 1);
  EXPECT_EQ(a.code, absl::StatusCode::kUnavailable);
  EXPECT_EQ(b.code, absl::StatusCode::kUnavailable);
  EXPECT_EQ(b.started, 0);
  EXPECT_EQ(admission.Enter(late.abort(), late.start(), &tl).code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace accllm
