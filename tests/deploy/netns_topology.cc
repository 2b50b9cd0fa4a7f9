#include "tests/deploy/netns_topology.h"

#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "tests/support/test_env.h"  // RunCommand

namespace accllm::testing {

namespace {

bool Run(const std::string& command, std::string* why) {
  const CommandResult r = RunCommand(command);
  if (r.exit_code != 0 && why != nullptr) *why = command + ": " + r.err;
  return r.exit_code == 0;
}

// 10.213.X.0/24 with no address, route or neighbour of this machine in it.
bool SubnetUnused(const std::string& prefix) {
  const std::string net = prefix + "0/24";
  return RunCommand("ip -o -4 addr show to " + net).out.empty() &&
         RunCommand("ip -o -4 route show root " + net + " table all").out.empty() &&
         RunCommand("ip -o -4 route show match " + prefix + "1 table main | grep -v '^default'")
             .out.empty();
}

}  // namespace

bool NetnsTopology::Up(const std::vector<std::string>& hosts, std::string* why) {
  if (geteuid() != 0) {
    *why = "needs root (creates a bridge and network namespaces)";
    return false;
  }
  suffix_ = std::to_string(getpid() % 100000);
  const std::string probe = "accllm-probe-" + suffix_;
  if (!Run("ip netns add " + probe, why)) return false;
  Run("ip netns del " + probe, nullptr);
  for (int x : {213, 131, 77}) {  // a few candidates, in case one is in use
    const std::string prefix = "10.213." + std::to_string(x) + ".";
    if (SubnetUnused(prefix)) {
      subnet_ = prefix;
      break;
    }
  }
  if (subnet_.empty()) {
    *why = "10.213.{213,131,77}.0/24 are all in use on this machine";
    return false;
  }
  bridge_ = "acbr" + suffix_;
  if (!Run("ip link add " + bridge_ + " type bridge", why)) return false;
  bridge_up_ = true;
  if (!Run("ip addr add " + subnet_ + "1/24 dev " + bridge_ + " && ip link set " + bridge_ + " up",
           why)) {
    return false;
  }
  for (const std::string& host : hosts) {
    hosts_.push_back(host);
    alive_.push_back(false);
    const std::string ns = Namespace(host);
    const std::string veth = "acv" + suffix_ + std::to_string(hosts_.size());
    if (!Run("ip netns add " + ns, why)) return false;
    alive_.back() = true;
    const std::string in = "ip netns exec " + ns + " ";
    if (!Run("ip link add " + veth + " type veth peer name eth0 netns " + ns + " && ip link set " +
                 veth + " master " + bridge_ + " up && " + in + "ip addr add " + Address(host) +
                 "/24 dev eth0 && " + in + "ip link set eth0 up && " + in + "ip link set lo up",
             why)) {
      return false;
    }
  }
  return true;
}

void NetnsTopology::TearDownHost(const std::string& host) {
  const int i = Index(host);
  if (i < 0 || !alive_[i]) return;
  const std::string ns = Namespace(host);
  // Every process in it, then the namespace (its veth end and the peer go with it).
  for (int round = 0; round < 3; ++round) {
    const std::string pids = RunCommand("ip netns pids " + ns).out;
    if (pids.empty()) break;
    std::istringstream in(pids);
    for (std::string pid; in >> pid;) RunCommand("kill -9 " + pid);
    usleep(100 * 1000);
  }
  RunCommand("ip netns del " + ns);
  alive_[i] = false;
}

void NetnsTopology::Down() {
  for (const std::string& host : hosts_) TearDownHost(host);
  if (bridge_up_) RunCommand("ip link del " + bridge_);
  bridge_up_ = false;
}

int NetnsTopology::Index(const std::string& host) const {
  auto it = std::find(hosts_.begin(), hosts_.end(), host);
  return it == hosts_.end() ? -1 : static_cast<int>(it - hosts_.begin());
}

std::string NetnsTopology::Address(const std::string& host) const {
  return subnet_ + std::to_string(Index(host) + 2);
}

std::string NetnsTopology::Namespace(const std::string& host) const {
  return "accllm-" + suffix_ + "-" + host;
}

bool NetnsTopology::RoutedViaTestNetwork(const std::string& from, const std::string& dest) const {
  if (dest.rfind(subnet_, 0) != 0) return false;
  const std::string prefix = from.empty() ? "" : "ip netns exec " + Namespace(from) + " ";
  const CommandResult r = RunCommand(prefix + "ip -o route get " + dest);
  const std::string dev = from.empty() ? bridge_ : "eth0";
  return r.exit_code == 0 && r.out.find(" dev " + dev + " ") != std::string::npos &&
         r.out.find(" via ") == std::string::npos;
}

}  // namespace accllm::testing
