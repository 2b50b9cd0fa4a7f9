// The worker registry on its own (no gRPC server, no worker process): what a
// registration must carry, what a heartbeat from a stranger gets, leases, restarts
// and drains, and the events the model manager is told about.
#include "server/cluster.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace accllm {
namespace {

using ::testing::HasSubstr;

// What the listener heard, in order ("up w", "down w: why", "draining w").
class Events {
 public:
  Cluster::Listener Listener() {
    return {.on_up = [this](const WorkerHandle& w) { Add("up " + w.id, w); },
            .on_down = [this](const WorkerHandle& w,
                              const std::string& why) { Add("down " + w.id + ": " + why, w); },
            .on_draining = [this](const WorkerHandle& w, bool) { Add("draining " + w.id, w); }};
  }
  std::vector<std::string> Seen() const {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }
  std::vector<uint64_t> Incarnations() const {
    std::lock_guard<std::mutex> lock(mu_);
    return incarnations_;
  }
  // Polls (up to 10 s) until `n` events arrived.
  bool WaitFor(size_t n) const {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < end) {
      if (Seen().size() >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return Seen().size() >= n;
  }

 private:
  void Add(std::string what, const WorkerHandle& w) {
    std::lock_guard<std::mutex> lock(mu_);
    seen_.push_back(std::move(what));
    incarnations_.push_back(w.incarnation);
  }
  mutable std::mutex mu_;
  std::vector<std::string> seen_;
  std::vector<uint64_t> incarnations_;
};

ClusterOptions Lease(double heartbeat_seconds, double lease_seconds) {
  ClusterOptions o;
  o.heartbeat_interval_seconds = heartbeat_seconds;
  o.lease_seconds = lease_seconds;
  return o;
}

v1::RegisterWorkerRequest Registration(const std::string& address) {
  v1::RegisterWorkerRequest r;
  r.set_address(address);
  r.set_device("cpu");
  r.set_backend("cpu/AVX2");
  r.set_kv_pages_total(64);
  r.set_kv_page_tokens(16);
  return r;
}

v1::HeartbeatRequest Beat(const std::string& id) {
  v1::HeartbeatRequest b;
  b.set_worker_id(id);
  return b;
}

v1::WorkerState StateOf(const Cluster& cluster, const std::string& id) {
  for (const v1::WorkerStatus& s : cluster.List()) {
    if (s.worker_id() == id) return s.state();
  }
  return v1::WORKER_STATE_UNSPECIFIED;
}

TEST(ClusterTest, RegistrationAnnouncesTheWorkerWithItsLease) {
  Events events;  // outlives the cluster, whose queued listener calls run as it ends
  Cluster cluster(Lease(0.5, 7), nullptr);
  cluster.SetListener(events.Listener());
  absl::StatusOr<v1::RegisterWorkerResponse> r = cluster.Register(Registration("10.0.0.1:7000"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->worker_id(), "10.0.0.1:7000");
  EXPECT_DOUBLE_EQ(r->heartbeat_interval_seconds(), 0.5);
  EXPECT_DOUBLE_EQ(r->lease_seconds(), 7);
  ASSERT_TRUE(events.WaitFor(1));
  EXPECT_EQ(events.Seen(), std::vector<std::string>{"up 10.0.0.1:7000"});
  ASSERT_EQ(cluster.LiveWorkers().size(), 1u);
  EXPECT_EQ(cluster.LiveWorkers()[0].device, "cpu");
  EXPECT_EQ(cluster.LiveWorkers()[0].page_tokens, 16);
  EXPECT_EQ(StateOf(cluster, "10.0.0.1:7000"), v1::WORKER_STATE_UP);
}

struct BadRegistration {
  std::string name;
  v1::RegisterWorkerRequest request;
  std::string words;
};

// gtest prints a case by its name (not as raw bytes in the test list).
void PrintTo(const BadRegistration& c, std::ostream* os) { *os << c.name; }

class ClusterRejectsRegistration : public ::testing::TestWithParam<BadRegistration> {};

TEST_P(ClusterRejectsRegistration, WithInvalidArgumentAndNoWorkerAdded) {
  Events events;  // outlives the cluster, whose queued listener calls run as it ends
  Cluster cluster({}, nullptr);
  cluster.SetListener(events.Listener());
  absl::StatusOr<v1::RegisterWorkerResponse> r = cluster.Register(GetParam().request);
  ASSERT_FALSE(r.ok()) << GetParam().name;
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr(GetParam().words));
  EXPECT_TRUE(cluster.List().empty());
  EXPECT_TRUE(cluster.LiveWorkers().empty());
}

v1::RegisterWorkerRequest WithPages(int32_t pages, int32_t tokens) {
  v1::RegisterWorkerRequest r = Registration("127.0.0.1:7000");
  r.set_kv_pages_total(pages);
  r.set_kv_page_tokens(tokens);
  return r;
}

INSTANTIATE_TEST_SUITE_P(
    BadRegistrations, ClusterRejectsRegistration,
    ::testing::Values(
        BadRegistration{"EmptyAddress", Registration(""), "address is empty"},
        BadRegistration{"NoPort", Registration("worker-host"),
                        "address \"worker-host\" is not HOST:PORT"},
        BadRegistration{"EmptyPort", Registration("worker-host:"), "is not HOST:PORT"},
        BadRegistration{"EmptyHost", Registration(":7000"), "is not HOST:PORT"},
        BadRegistration{"PortNotANumber", Registration("worker-host:http"), "is not HOST:PORT"},
        BadRegistration{"PortZero", Registration("worker-host:0"), "port 0"},
        BadRegistration{"PortTooLarge", Registration("worker-host:65536"), "port 65536"},
        BadRegistration{"NegativePages", WithPages(-1, 16), "kv_pages_total"},
        BadRegistration{"NegativePageTokens", WithPages(64, -16), "kv_page_tokens"}),
    [](const ::testing::TestParamInfo<BadRegistration>& info) { return info.param.name; });

TEST(ClusterTest, AddressesOfEveryFormAWorkerListensOnAreAccepted) {
  Cluster cluster({}, nullptr);
  for (const char* address : {"127.0.0.1:1", "worker-3.cluster.local:65535", "[::1]:50052",
                              "unix:/run/accllm/worker.sock"}) {
    absl::StatusOr<v1::RegisterWorkerResponse> r = cluster.Register(Registration(address));
    EXPECT_TRUE(r.ok()) << address << ": " << r.status();
  }
  EXPECT_EQ(cluster.LiveWorkers().size(), 4u);
}

TEST(ClusterTest, AHeartbeatFromAnUnknownWorkerIsToldToRegister) {
  Cluster cluster({}, nullptr);
  ASSERT_TRUE(cluster.Register(Registration("127.0.0.1:7000")).ok());
  EXPECT_FALSE(cluster.Heartbeat(Beat("127.0.0.1:7001")).known());
  EXPECT_FALSE(cluster.Heartbeat(Beat("")).known());
  EXPECT_TRUE(cluster.Heartbeat(Beat("127.0.0.1:7000")).known());
  // Only the known worker is listed: an unknown heartbeat adds nobody.
  ASSERT_EQ(cluster.List().size(), 1u);
}

TEST(ClusterTest, AWorkerMarkedDownIsUnknownToHeartbeatsUntilItRegistersAgain) {
  Events events;  // outlives the cluster, whose queued listener calls run as it ends
  Cluster cluster({}, nullptr);
  cluster.SetListener(events.Listener());
  ASSERT_TRUE(cluster.Register(Registration("127.0.0.1:7000")).ok());
  const uint64_t first = cluster.LiveWorkers().at(0).incarnation;
  cluster.MarkDown("127.0.0.1:7000", first, "step failed: connection refused");
  EXPECT_EQ(StateOf(cluster, "127.0.0.1:7000"), v1::WORKER_STATE_DOWN);
  EXPECT_TRUE(cluster.LiveWorkers().empty());
  // A late heartbeat does not bring it back: its KV pages are gone with the old process.
  EXPECT_FALSE(cluster.Heartbeat(Beat("127.0.0.1:7000")).known());
  EXPECT_EQ(StateOf(cluster, "127.0.0.1:7000"), v1::WORKER_STATE_DOWN);
  ASSERT_TRUE(cluster.Register(Registration("127.0.0.1:7000")).ok());
  EXPECT_EQ(StateOf(cluster, "127.0.0.1:7000"), v1::WORKER_STATE_UP);
  EXPECT_GT(cluster.LiveWorkers().at(0).incarnation, first);
  ASSERT_TRUE(events.WaitFor(3));
  EXPECT_EQ(events.Seen(),
            (std::vector<std::string>{"up 127.0.0.1:7000",
                                      "down 127.0.0.1:7000: step failed: connection refused",
                                      "up 127.0.0.1:7000"}));
}

TEST(ClusterTest, MarkingDownAnOlderIncarnationLeavesTheNewOneUp) {
  Events events;  // outlives the cluster, whose queued listener calls run as it ends
  Cluster cluster({}, nullptr);
  cluster.SetListener(events.Listener());
  ASSERT_TRUE(cluster.Register(Registration("127.0.0.1:7000")).ok());
  const uint64_t first = cluster.LiveWorkers().at(0).incarnation;
  // The process restarted and registered again before the server noticed: the old
  // incarnation is reported down (its sequences are recomputed), the new one serves.
  ASSERT_TRUE(cluster.Register(Registration("127.0.0.1:7000")).ok());
  const uint64_t second = cluster.LiveWorkers().at(0).incarnation;
  EXPECT_NE(first, second);
  ASSERT_TRUE(events.WaitFor(3));
  EXPECT_EQ(events.Seen()[1], "down 127.0.0.1:7000: the worker registered again (restarted)");
  EXPECT_EQ(events.Incarnations()[1], first);
  EXPECT_EQ(events.Incarnations()[2], second);
  // A step of the old incarnation failing afterwards must not take the new one down.
  cluster.MarkDown("127.0.0.1:7000", first, "step of the old process failed");
  EXPECT_EQ(StateOf(cluster, "127.0.0.1:7000"), v1::WORKER_STATE_UP);
  cluster.MarkDown("127.0.0.1:9999", 1, "nobody");  // unknown: ignored
  EXPECT_EQ(cluster.List().size(), 1u);
  EXPECT_EQ(events.Seen().size(), 3u);
}

TEST(ClusterTest, DrainingNeedsALiveKnownWorker) {
  Events events;  // outlives the cluster, whose queued listener calls run as it ends
  Cluster cluster({}, nullptr);
  cluster.SetListener(events.Listener());
  absl::StatusOr<v1::WorkerStatus> unknown = cluster.Drain("127.0.0.1:7000");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound) << unknown.status();
  EXPECT_THAT(std::string(unknown.status().message()), HasSubstr("127.0.0.1:7000"));
  ASSERT_TRUE(cluster.Register(Registration("127.0.0.1:7000")).ok());
  const uint64_t incarnation = cluster.LiveWorkers().at(0).incarnation;
  absl::StatusOr<v1::WorkerStatus> draining = cluster.Drain("127.0.0.1:7000");
  ASSERT_TRUE(draining.ok()) << draining.status();
  EXPECT_EQ(draining->state(), v1::WORKER_STATE_DRAINING);
  EXPECT_TRUE(cluster.LiveWorkers().empty());  // no new sequences go there
  EXPECT_TRUE(cluster.Heartbeat(Beat("127.0.0.1:7000")).known());  // but it is still alive
  cluster.MarkDown("127.0.0.1:7000", incarnation, "gone");
  ASSERT_EQ(StateOf(cluster, "127.0.0.1:7000"), v1::WORKER_STATE_DOWN);
  absl::StatusOr<v1::WorkerStatus> down = cluster.Drain("127.0.0.1:7000");
  EXPECT_EQ(down.status().code(), absl::StatusCode::kFailedPrecondition) << down.status();
  EXPECT_THAT(std::string(down.status().message()), HasSubstr("is down"));
}

TEST(ClusterTest, AWorkerSilentForTheLeaseIsDownAndOneThatBeatsIsNot) {
  Events events;  // outlives the cluster, whose queued listener calls run as it ends
  Cluster cluster(Lease(0.05, 0.3), nullptr);
  cluster.SetListener(events.Listener());
  cluster.Start();
  ASSERT_TRUE(cluster.Register(Registration("127.0.0.1:7000")).ok());  // silent
  ASSERT_TRUE(cluster.Register(Registration("127.0.0.1:7001")).ok());  // beats
  std::atomic<bool> stop = false;
  std::thread beating([&] {
    while (!stop.load()) {
      EXPECT_TRUE(cluster.Heartbeat(Beat("127.0.0.1:7001")).known());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  const bool silent_down = events.WaitFor(3);
  // Several leases more: the beating worker stays up throughout.
  std::this_thread::sleep_for(std::chrono::milliseconds(900));
  stop = true;
  beating.join();
  ASSERT_TRUE(silent_down);
  EXPECT_EQ(StateOf(cluster, "127.0.0.1:7000"), v1::WORKER_STATE_DOWN);
  EXPECT_EQ(StateOf(cluster, "127.0.0.1:7001"), v1::WORKER_STATE_UP);
  const std::vector<std::string> seen = events.Seen();
  ASSERT_GE(seen.size(), 3u);
  EXPECT_EQ(seen[2], "down 127.0.0.1:7000: no heartbeat within the lease");
  for (const std::string& e : seen) EXPECT_EQ(e.find("down 127.0.0.1:7001"), std::string::npos) << e;
  // It stopped beating: the lease takes it down too.
  ASSERT_TRUE(events.WaitFor(4));
  EXPECT_EQ(events.Seen()[3], "down 127.0.0.1:7001: no heartbeat within the lease");
}

}  // namespace
}  // namespace accllm
