// A Linux guest with a network device on a tap in a namespace of the test's own (net_namespace.h):
// the guest kit booted under kiln (--net tap=ktap0,mac=MAC, or the same through the control API),
// or under QEMU with -netdev tap,vhost=off (to check the harness and the script against a
// known-good device), with the host-side peers started in the namespace first:
//   net_tcp recv 5001   the file the guest sends (guest -> host)
//   net_tcp send 5002   a file of random bytes the guest receives (host -> guest)
//   net_echo --arp --inject 02:6b:69:6c:6e:99 MS   ARP frames logged; a frame for another MAC every
//                       MS milliseconds (promiscuous mode)
// The guest is 10.0.2.2/24, the tap's side 10.0.2.1.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "child_process.h"
#include "host_files.h"
#include "linux_guest.h"

namespace kiln::test {

inline constexpr const char* kGuestMac = "02:6b:69:6c:6e:02";
inline constexpr const char* kForeignMac = "02:6b:69:6c:6e:99";
inline constexpr size_t kTcpBytes = 1u << 20;

enum class NetVmm { kKiln, kKilnApi, kQemu };

struct NetGuestOptions {
  NetVmm vmm = NetVmm::kKiln;
  bool pci = false;           // kiln --transport pci / QEMU -M pc with virtio-net-pci
  bool stock = false;         // the kit is a stock kernel's (modules from /lib/modules/stock)
  std::string mac = kGuestMac;
  std::string env;            // variables for the script, e.g. "NO_NET_DRIVER=1"
  int cpus = 1;
  std::string memory = "256M";
  std::vector<std::string> kiln_args;  // more kiln flags (e.g. --rng)
  int inject_ms = 100;        // 0: no frames for another MAC
};

struct NetGuestRun {
  AgentRun agent;
  std::map<std::string, std::string> values;  // the script's @key=value lines
  std::string sent;             // the bytes the host sent to the guest
  std::string received;         // the bytes the guest sent to the host
  std::string echo_log;         // net_echo's output (its ARP lines)
  std::string argv;             // the VMM's command line, for messages
};

// The guest script (net_guest.cpp, kNetScript): loads the stock modules if any, configures eth0,
// pings, moves a file each way with busybox nc, switches promiscuous mode, printing @key=value.
[[nodiscard]] const std::string& net_guest_script();

// Boots `kit` with the script (and `extra_files`) and the peers; fails the test on set-up errors.
NetGuestRun run_net_guest(const GuestKit& kit, const NetGuestOptions& options);

}  // namespace kiln::test
