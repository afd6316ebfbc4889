// probe=net (guests/probe/scenarios/net.cpp) against a tap in a network namespace of its own, with
// the peer tests/support/net_echo on the tap's host side: under kiln (--net tap=NAME,mac=MAC, on
// virtio-mmio and --transport pci) and under QEMU (-netdev tap,vhost=off with virtio-net-device on
// microvm, virtio-net-pci on pc), which proves the scenario itself. Label "probe": they need the
// kvm-box (or KILN_NET_TESTS=1 and root) for the namespace, and kiln needs /dev/kvm; QEMU uses KVM
// when it is there, TCG otherwise.
#include <gtest/gtest.h>

#include "kvm_test_env.h"
#include "net_namespace.h"
#include "probe_case.h"
#include "probe_command.h"
#include "probe_output.h"

namespace kiln::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kMac = "02:6b:69:6c:6e:01";

struct NetCase {
  const char* name;
  const char* params;  // after "probe=net net.mac=<kMac>"
  void (*extra)(const ProbeOutput&, bool kiln);
};

void check_full(const ProbeOutput& out, bool kiln) {
  expect_ok(out, {"net.found", "net.negotiate", "net.queue", "net.driver_ok", "net.mac", "net.link", "net.echo",
                  "net.tx_csum", "net.rx_csum", "net.promisc_off", "net.promisc_on", "net.ctrl_unknown",
                  "net.bad.short_hdr", "net.bad.oversize", "net.bad.out_of_ram", "net.reset"});
  const ProbeLine* mac = out.find("result", "net.mac");
  ASSERT_NE(mac, nullptr);
  EXPECT_EQ(mac->fields.at("mac"), kMac);
  const ProbeLine* echo = out.find("result", "net.echo");
  ASSERT_NE(echo, nullptr);
  EXPECT_EQ(echo->fields.at("frames"), "16") << echo->detail;
  // The offloads were negotiated, so the headers cross the tap as they are.
  const ProbeLine* tx = out.find("result", "net.tx_csum");
  ASSERT_NE(tx, nullptr);
  EXPECT_EQ(tx->fields.at("mode"), "passed") << tx->detail;
  const ProbeLine* rx = out.find("result", "net.rx_csum");
  ASSERT_NE(rx, nullptr);
  EXPECT_EQ(rx->fields.at("mode"), "partial") << rx->detail;
  if (kiln) {
    // kiln drops a bad frame and keeps the device running (QEMU marks it broken for some).
    for (const char* c : {"net.bad.short_hdr", "net.bad.oversize", "net.bad.out_of_ram"}) {
      const ProbeLine* r = out.find("result", c);
      ASSERT_NE(r, nullptr) << c;
      EXPECT_EQ(r->fields.at("reset"), "0") << c << ": " << r->detail;
      EXPECT_EQ(r->fields.at("used"), "1") << c << " must come back on the used ring: " << r->detail;
    }
  }
}

void check_plain(const ProbeOutput& out, bool) {
  expect_ok(out, {"net.found", "net.driver_ok", "net.echo", "net.rx_csum", "net.reset"});
  const ProbeLine* f = out.find("result", "net.features");
  ASSERT_NE(f, nullptr);
  const uint64_t accepted = std::stoull(f->fields.at("accepted"), nullptr, 16);
  EXPECT_EQ(accepted & ((1ull << 0) | (1ull << 1) | (1ull << 15) | (1ull << 17)), 0u) << f->detail;
  // No GUEST_CSUM: the checksum must arrive filled in.
  const ProbeLine* rx = out.find("result", "net.rx_csum");
  ASSERT_NE(rx, nullptr);
  EXPECT_EQ(rx->fields.at("mode"), "full") << rx->detail;
}

void check_pps(const ProbeOutput& out, bool) {
  expect_ok(out, {"net.pps.tx", "net.pps.echo"});
  const auto rows = out.find_all("result", "net.pps");
  ASSERT_EQ(rows.size(), 2u);
  for (const ProbeLine* r : rows) EXPECT_GT(field_number(*r, "fps").value_or(0), 0) << r->detail;
}

const NetCase kCases[] = {
    {"net", "", check_full},
    {"net_plain", "net.mrg=0 net.csum=0 net.guest_csum=0 net.ctrl=0 net.event_idx=0 net.bad=0", check_plain},
    {"net_pps", "net.pps=2000", check_pps},
};

enum class Vmm { kKiln, kQemu };
enum class Transport { kMmio, kPci };

struct NetRun {
  NetCase c;
  Vmm vmm;
  Transport transport;
  friend void PrintTo(const NetRun& r, std::ostream* os) { *os << '"' << r.c.params << '"'; }
};

std::vector<NetRun> all_runs() {
  std::vector<NetRun> runs;
  for (const Vmm v : {Vmm::kKiln, Vmm::kQemu}) {
    for (const Transport t : {Transport::kMmio, Transport::kPci}) {
      for (const NetCase& c : kCases) runs.push_back({c, v, t});
    }
  }
  return runs;
}

std::string run_name(const ::testing::TestParamInfo<NetRun>& info) {
  return std::string(info.param.vmm == Vmm::kKiln ? "Kiln" : "Qemu") +
         (info.param.transport == Transport::kMmio ? "Mmio_" : "Pci_") + info.param.c.name;
}

std::vector<std::string> vmm_argv(const NetRun& run, const std::string& tap, const std::string& cmdline) {
  const bool pci = run.transport == Transport::kPci;
  if (run.vmm == Vmm::kKiln) {
    std::vector<std::string> args{"--kernel", KILN_GUEST_PROBE, "--cmdline", cmdline, "--memory", "128M",
                                  "--net", "tap=" + tap + ",mac=" + kMac};
    if (pci) args.insert(args.end(), {"--transport", "pci"});
    return kiln_run(args);
  }
  const std::string qemu = find_qemu(KILN_QEMU_SYSTEM);
  std::vector<std::string> argv{qemu, "-accel", have_kvm() ? "kvm" : "tcg", "-M", pci ? "pc" : "microvm,acpi=off",
                                "-nodefaults", "-no-user-config", "-nographic", "-serial", "stdio", "-m", "128M"};
  if (!pci) argv.insert(argv.end(), {"-device", "i8042"});
  argv.insert(argv.end(), {"-netdev", "tap,id=n0,ifname=" + tap + ",script=no,downscript=no,vhost=off", "-device",
                           std::string(pci ? "virtio-net-pci,disable-modern=on" : "virtio-net-device") +
                               ",netdev=n0,mac=" + kMac,
                           "-kernel", KILN_GUEST_PROBE, "-append", cmdline, "-no-reboot"});
  return argv;
}

class NetProbe : public ::testing::TestWithParam<NetRun> {};

TEST_P(NetProbe, Run) {
  const NetRun& run = GetParam();
  if (run.vmm == Vmm::kKiln) KILN_REQUIRE_KVM();
  if (run.vmm == Vmm::kQemu && find_qemu(KILN_QEMU_SYSTEM).empty()) GTEST_SKIP() << "qemu-system-x86_64 not found";
  KILN_REQUIRE_NET_SANDBOX();
  NetNamespace ns;
  ASSERT_EQ(ns.error(), "");
  ChildProcess& echo = ns.start({KILN_NET_ECHO, ns.tap()});
  ASSERT_TRUE(echo.wait_for_output("net_echo ready", scaled(30s))) << echo.out();

  std::string cmdline = std::string("probe=net net.mac=") + kMac + " " + run.c.params;
  if (run.transport == Transport::kPci) cmdline += " net.transport=pci";
  const auto argv = ns.exec(vmm_argv(run, ns.tap(), cmdline));
  const ChildResult r = run_child(argv, scaled(run.vmm == Vmm::kKiln ? 120s : 240s));
  const ProbeOutput out = parse_probe_output(r.out);
  const auto problems = probe_run_problems(out, {r.exit_status, r.timed_out}, {});
  for (const auto& p : problems) ADD_FAILURE() << p;
  if (!problems.empty()) {
    std::string cmd;
    for (const auto& a : argv) cmd += a + " ";
    ADD_FAILURE() << "command: " << cmd << "\n--- stdout ---\n" << r.out << "--- stderr ---\n" << r.err;
  }
  run.c.extra(out, run.vmm == Vmm::kKiln);
}

INSTANTIATE_TEST_SUITE_P(Net, NetProbe, ::testing::ValuesIn(all_runs()), run_name);

}  // namespace
}  // namespace kiln::test
