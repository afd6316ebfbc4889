#include "net_namespace.h"

#include <unistd.h>

#include <csignal>
#include <atomic>
#include <cstdlib>
#include <fstream>

namespace kiln::test {
namespace {

using namespace std::chrono_literals;

// iproute2's ip (posix_spawn needs a path).
std::string ip_binary() {
  for (const char* p : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  return "";
}

std::string unique_name() {
  static std::atomic<int> counter{0};
  return "kiln-t" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

}  // namespace

std::string net_sandbox_unavailable() {
  const char* box = std::getenv("KVM_BOX");
  const char* allowed = std::getenv("KILN_NET_TESTS");
  if (!(box != nullptr && std::string(box) == "1") && !(allowed != nullptr && std::string(allowed) == "1")) {
    return "not inside the kvm-box (KVM_BOX=1) and KILN_NET_TESTS=1 not set";
  }
  if (::geteuid() != 0) return "not root";
  if (::access("/dev/net/tun", R_OK | W_OK) != 0) return "no /dev/net/tun";
  if (ip_binary().empty()) return "no ip (iproute2)";
  return "";
}

NetNamespace::NetNamespace(NetNamespaceOptions options) : options_(std::move(options)), name_(unique_name()) {
  if (!ip({"netns", "add", name_})) return;
  created_ = true;
  if (!ip({"-n", name_, "link", "set", "lo", "up"})) return;
  // No IPv6 in the namespace: no router solicitations or DAD frames on the tap.
  const ChildResult r = run({"/bin/sh", "-c", "echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; "
                                              "echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6"},
                            20s);
  (void)r;  // a kernel without IPv6 has neither file: nothing to turn off
  add_tap(options_.tap, options_.host_cidr);
}

NetNamespace::~NetNamespace() {
  // Processes first (by PID, newest first), then the taps, then the namespace.
  while (!children_.empty()) {
    children_.back()->send_signal(SIGTERM);
    (void)children_.back()->wait(5s);  // SIGKILL after 5 s
    children_.pop_back();
  }
  if (!created_) return;
  for (const auto& t : taps_) (void)ip({"-n", name_, "link", "del", t});
  (void)ip({"netns", "del", name_});
}

std::string NetNamespace::host_ip() const { return options_.host_cidr.substr(0, options_.host_cidr.find('/')); }

bool NetNamespace::ip(const std::vector<std::string>& args) {
  std::vector<std::string> argv{ip_binary()};
  argv.insert(argv.end(), args.begin(), args.end());
  const ChildResult r = run_child(argv, 30s);
  if (r.exit_status == 0) return true;
  if (error_.empty()) {
    std::string cmd;
    for (const auto& a : argv) cmd += a + " ";
    error_ = cmd + "failed (status " + std::to_string(r.exit_status) + "): " + r.err;
  }
  return false;
}

bool NetNamespace::add_tap(const std::string& tap, const std::string& cidr) {
  if (!ip({"-n", name_, "tuntap", "add", tap, "mode", "tap"})) return false;
  taps_.push_back(tap);
  if (!cidr.empty() && !ip({"-n", name_, "addr", "add", cidr, "dev", tap})) return false;
  return ip({"-n", name_, "link", "set", tap, "up"});
}

std::vector<std::string> NetNamespace::exec(const std::vector<std::string>& argv) const {
  std::vector<std::string> full{ip_binary(), "netns", "exec", name_};
  full.insert(full.end(), argv.begin(), argv.end());
  return full;
}

ChildResult NetNamespace::run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) const {
  return run_child(exec(argv), timeout);
}

ChildProcess& NetNamespace::start(const std::vector<std::string>& argv, ChildStdin stdin_mode) {
  children_.push_back(std::make_unique<ChildProcess>(exec(argv), stdin_mode));
  return *children_.back();
}

std::string NetNamespace::mac_of(const std::string& dev) const {
  const ChildResult r = run({"/bin/cat", "/sys/class/net/" + dev + "/address"}, 20s);
  if (r.exit_status != 0) return "";
  std::string mac = r.out;
  while (!mac.empty() && (mac.back() == '\n' || mac.back() == ' ')) mac.pop_back();
  return mac;
}

}  // namespace kiln::test
