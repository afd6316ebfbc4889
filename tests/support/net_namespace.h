// A network namespace for a test, with a tap in it: `ip netns add`, `ip tuntap add TAP mode tap`,
// the host-side address on the tap, loopback up, IPv6 off (no router solicitations on the tap).
// Processes started in it are tracked and killed (by PID) before the namespace is deleted; the
// destructor deletes the tap and the namespace. Never touches the interfaces of the namespace the
// test runs in.
//
// Tests that need one call KILN_REQUIRE_NET_SANDBOX(): they run as root where /dev/net/tun and `ip`
// exist, and only inside the kvm-box (KVM_BOX=1, set by scripts/kvm-box/run) or when
// KILN_NET_TESTS=1 says this machine may make namespaces; otherwise they skip loudly.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "child_process.h"

namespace kiln::test {

// "" when network namespaces may be made here, else why not.
[[nodiscard]] std::string net_sandbox_unavailable();

#define KILN_REQUIRE_NET_SANDBOX()                                                                     \
  do {                                                                                                 \
    const std::string why_ = ::kiln::test::net_sandbox_unavailable();                                  \
    if (!why_.empty()) {                                                                               \
      std::fprintf(stderr, "\n*** SKIPPED: %s; network tests make a namespace with a tap (run them "   \
                           "in the kvm-box: scripts/kvm-box/run ctest ...) ***\n\n", why_.c_str());    \
      GTEST_SKIP() << why_;                                                                            \
    }                                                                                                  \
  } while (0)

struct NetNamespaceOptions {
  std::string tap = "ktap0";
  std::string host_cidr = "10.0.2.1/24";  // the tap's address in the namespace ("" for none)
};

class NetNamespace {
 public:
  explicit NetNamespace(NetNamespaceOptions options = {});
  ~NetNamespace();
  NetNamespace(const NetNamespace&) = delete;
  NetNamespace& operator=(const NetNamespace&) = delete;

  // Empty when the namespace, tap and address are in place; else what failed (with ip's stderr).
  [[nodiscard]] const std::string& error() const { return error_; }
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] const std::string& tap() const { return options_.tap; }
  // The host side's address without the prefix length ("10.0.2.1").
  [[nodiscard]] std::string host_ip() const;

  // argv run inside the namespace: ip netns exec NAME argv... (ip execs it: the PID is argv[0]'s).
  [[nodiscard]] std::vector<std::string> exec(const std::vector<std::string>& argv) const;
  // Runs argv inside the namespace to completion (or the deadline).
  ChildResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) const;
  // Starts argv inside the namespace; the process is killed and reaped at destruction at the latest.
  ChildProcess& start(const std::vector<std::string>& argv, ChildStdin stdin_mode = ChildStdin::kNull);
  // Another tap (with an address if cidr is not empty); false (and error()) on failure.
  bool add_tap(const std::string& tap, const std::string& cidr);
  // The tap's MAC address ("" if unknown).
  [[nodiscard]] std::string mac_of(const std::string& dev) const;

 private:
  bool ip(const std::vector<std::string>& args);

  NetNamespaceOptions options_;
  std::string name_;
  std::string error_;
  bool created_ = false;
  std::vector<std::string> taps_;
  std::vector<std::unique_ptr<ChildProcess>> children_;
};

}  // namespace kiln::test
