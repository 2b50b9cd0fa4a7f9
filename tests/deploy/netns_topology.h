// A private test network for multi-host tests: a bridge in the host namespace
// on a /24 that nothing on this machine uses, and one network namespace per
// "host" joined to it by a veth pair. Everything it creates it removes (also
// when a test fails); it never touches an interface or namespace it did not create.
#ifndef ACCLLM_TESTS_DEPLOY_NETNS_TOPOLOGY_H_
#define ACCLLM_TESTS_DEPLOY_NETNS_TOPOLOGY_H_

#include <string>
#include <vector>

namespace accllm::testing {

class NetnsTopology {
 public:
  NetnsTopology() = default;
  ~NetnsTopology() { Down(); }
  NetnsTopology(const NetnsTopology&) = delete;
  NetnsTopology& operator=(const NetnsTopology&) = delete;

  // Creates the bridge (host address .1) and one namespace per name (.2, .3, ...).
  // False with `why` set when this machine cannot (not root, no netns, no free subnet).
  bool Up(const std::vector<std::string>& hosts, std::string* why);
  // Kills every process in `host`'s namespace and deletes it (its veth goes with it).
  void TearDownHost(const std::string& host);
  void Down();

  std::string Address(const std::string& host) const;  // "10.213.X.N"
  std::string Namespace(const std::string& host) const;
  // True when `ip route get DEST` (run in `from`'s namespace, or the host's when
  // `from` is empty) sends DEST out of the test network's interface.
  bool RoutedViaTestNetwork(const std::string& from, const std::string& dest) const;

 private:
  int Index(const std::string& host) const;
  std::string suffix_;
  std::string subnet_;  // "10.213.X."
  std::string bridge_;
  std::vector<std::string> hosts_;
  std::vector<bool> alive_;
  bool bridge_up_ = false;
};

}  // namespace accllm::testing

#endif  // ACCLLM_TESTS_DEPLOY_NETNS_TOPOLOGY_H_
