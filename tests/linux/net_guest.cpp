#include "net_guest.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <memory>
#include <thread>

#include "api_call.h"
#include "kvm_test_env.h"
#include "net_namespace.h"
#include "probe_command.h"
#include "scratch_dir.h"

namespace kiln::test {
namespace {

using namespace std::chrono_literals;

// Every step prints "@key=value"; the host checks them. Stock kernels load their modules first
// (all of build-stock's, in order; NO_NET_DRIVER=1 leaves virtio_net out).
constexpr const char* kNetScript = R"SH(v() { echo "@$1=$2"; }
if [ -d /lib/modules/stock ]; then
  for m in $(cat /lib/modules/stock/order); do
    [ "$m" = virtio_net ] && [ -n "$NO_NET_DRIVER" ] && continue
    insmod /lib/modules/stock/$m.ko || v insmod.$m failed
  done
fi
if [ -n "$NO_NET_DRIVER" ]; then
  v net.devices "$(ls /sys/class/net | tr '\n' ' ')"
  for d in /sys/bus/virtio/devices/*; do v ${d##*/} "$(cat $d/device) $(readlink $d/driver | sed 's|.*/||')"; done
  v rng "$(dd if=/dev/hwrng bs=32 count=2 iflag=fullblock 2>/dev/null | wc -c)"
  sleep 3; v slept $?
  exit 0
fi
i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
d=$(readlink -f /sys/class/net/eth0/device)
v mac "$(cat /sys/class/net/eth0/address)"
v driver "$(readlink $d/driver | sed 's|.*/||')"
v parent "$(readlink -f $d/.. | sed 's|.*/||')"
v features "$(cat $d/features)"
ip link set lo up
st() { cat /sys/class/net/eth0/statistics/$1; }
ip addr add 10.0.2.2/24 dev eth0 && ip link set eth0 up; v up $?
v pre "neigh=$(ip neigh show 10.0.2.1 | tr ' ' _) uptime=$(cut -d' ' -f1 /proc/uptime) carrier=$(cat /sys/class/net/eth0/carrier) oper=$(cat /sys/class/net/eth0/operstate) tx=$(st tx_packets)/$(st tx_dropped) rx=$(st rx_packets)/$(st rx_dropped)"
ping -c 1 -W 20 10.0.2.1 > /dev/null 2>&1; v ping.first $?
v post "uptime=$(cut -d' ' -f1 /proc/uptime) carrier=$(cat /sys/class/net/eth0/carrier) oper=$(cat /sys/class/net/eth0/operstate) tx=$(st tx_packets)/$(st tx_dropped) rx=$(st rx_packets)/$(st rx_dropped) neigh=$(ip neigh show 10.0.2.1 | tr ' ' _)"
ping -c 3 -W 10 10.0.2.1 > /tmp/ping 2>&1; v ping $?
v ping.received "$(sed -n 's/.* \([0-9]*\) packets received.*/\1/p' /tmp/ping)"
head -c 1048576 /dev/urandom > /tmp/out; v out.sha "$(sha256sum < /tmp/out | cut -d' ' -f1)"
nc 10.0.2.1 5001 < /tmp/out; v nc.send $?
nc -l -p 5002 > /tmp/in; v nc.recv $?
v in.bytes "$(wc -c < /tmp/in)"; v in.sha "$(sha256sum < /tmp/in | cut -d' ' -f1)"
rx() { cat /sys/class/net/eth0/statistics/rx_packets; }
a=$(rx); sleep 2; b=$(rx); v rx.off1 $((b - a))
ip link set eth0 promisc on; v promisc.set $?
v promisc.flag $(( $(cat /sys/class/net/eth0/flags) & 0x100 ))
sleep 0.5; a=$(rx); sleep 2; b=$(rx); v rx.on $((b - a))
ip link set eth0 promisc off; sleep 0.5; a=$(rx); sleep 2; b=$(rx); v rx.off2 $((b - a))
v rx.errors "$(cat /sys/class/net/eth0/statistics/rx_errors) $(cat /sys/class/net/eth0/statistics/tx_errors)"
exit 0
)SH";

std::string cmdline_for(const NetGuestOptions& o) {
  std::string command = "sh /net-test.sh";
  if (!o.env.empty()) command = o.env + " " + command;
  return "console=ttyS0 reboot=k panic=-1 quiet kiln.cmd=" + base64(command);
}

std::vector<std::string> qemu_argv(const GuestKit& kit, const std::string& initrd, const NetGuestOptions& o,
                                   const std::string& tap) {
  const std::string qemu = find_qemu(KILN_QEMU_SYSTEM);
  std::vector<std::string> argv{qemu, "-accel", have_kvm() ? "kvm" : "tcg", "-M", o.pci ? "pc" : "microvm",
                                "-nodefaults", "-no-user-config", "-nographic", "-serial", "stdio",
                                "-smp", std::to_string(o.cpus), "-m", o.memory};
  if (!o.pci) argv.insert(argv.end(), {"-device", "i8042"});
  argv.insert(argv.end(), {"-netdev", "tap,id=n0,ifname=" + tap + ",script=no,downscript=no,vhost=off", "-device",
                           std::string(o.pci ? "virtio-net-pci,disable-modern=on" : "virtio-net-device") +
                               ",netdev=n0,mac=" + o.mac,
                           "-kernel", kit.kernel, "-initrd", initrd, "-append", cmdline_for(o), "-no-reboot"});
  return argv;
}

std::vector<std::string> kiln_net_args(const NetGuestOptions& o, const std::string& tap) {
  std::vector<std::string> args{"--net", "tap=" + tap + ",mac=" + o.mac};
  if (o.pci) args.insert(args.end(), {"--transport", "pci"});
  args.insert(args.end(), o.kiln_args.begin(), o.kiln_args.end());
  return args;
}

// kiln --api-sock, then boot-source, machine-config, network-interfaces/eth0 and InstanceStart.
ChildResult run_kiln_api(NetNamespace& ns, const GuestKit& kit, const std::string& initrd, const NetGuestOptions& o) {
  ScratchDir dir;
  const std::string sock = dir.file("api.sock");
  std::vector<std::string> argv{KILN_BINARY, "--api-sock", sock};
  if (o.pci) argv.insert(argv.end(), {"--transport", "pci"});
  ChildProcess& vmm = ns.start(argv);
  ChildResult failed;
  failed.exit_status = -1;
  if (!wait_for_api(sock, scaled(240s))) {
    ADD_FAILURE() << "kiln's API did not come up";
    return vmm.wait(1s);
  }
  const auto put = [&](const std::string& path, const std::string& body) {
    const ApiReply r = api_call(sock, "PUT", path, body);
    EXPECT_EQ(r.status, 204) << "PUT " << path << " " << body << ": " << r.body << r.error;
    return r.status == 204;
  };
  const bool ok =
      put("/boot-source", R"({"kernel_image_path": ")" + kit.kernel + R"(", "initrd_path": ")" + initrd +
                              R"(", "boot_args": ")" + cmdline_for(o) + R"("})") &&
      put("/machine-config", R"({"vcpu_count": )" + std::to_string(o.cpus) + R"(, "mem_size_mib": 256})") &&
      put("/network-interfaces/eth0",
          R"({"iface_id": "eth0", "host_dev_name": ")" + ns.tap() + R"(", "guest_mac": ")" + o.mac + R"("})");
  if (ok) {
    const ApiReply config = api_call(sock, "GET", "/vm/config");
    EXPECT_NE(config.body.find(ns.tap()), std::string::npos) << "GET /vm/config: " << config.body;
    EXPECT_NE(config.body.find(o.mac), std::string::npos) << "GET /vm/config: " << config.body;
    put("/actions", R"({"action_type": "InstanceStart"})");
  }
  return vmm.wait(scaled(1200s));
}

}  // namespace

const std::string& net_guest_script() {
  static const std::string script = kNetScript;
  return script;
}

NetGuestRun run_net_guest(const GuestKit& kit, const NetGuestOptions& o) {
  NetGuestRun run;
  NetNamespace ns;
  if (!ns.error().empty()) {
    ADD_FAILURE() << ns.error();
    return run;
  }
  TempDir dir;
  const auto random = random_bytes(kTcpBytes, 42);
  run.sent.assign(random.begin(), random.end());
  const std::string to_guest = dir.file("to-guest.bin");
  const std::string from_guest = dir.file("from-guest.bin");
  if (!write_file(to_guest, run.sent)) {
    ADD_FAILURE() << "cannot write " << to_guest;
    return run;
  }
  ChildProcess& recv = ns.start({KILN_NET_TCP, "recv", "5001", from_guest});
  if (!recv.wait_for_output("net_tcp listening", scaled(120s))) ADD_FAILURE() << "net_tcp recv: " << recv.out();
  (void)ns.start({KILN_NET_TCP, "send", "10.0.2.2", "5002", to_guest, "900"});  // retries until the guest listens
  std::vector<std::string> echo_argv{KILN_NET_ECHO, ns.tap(), "--arp"};
  if (o.inject_ms > 0) echo_argv.insert(echo_argv.end(), {"--inject", kForeignMac, std::to_string(o.inject_ms)});
  ChildProcess& echo = ns.start(echo_argv);
  if (!echo.wait_for_output("net_echo ready", scaled(120s))) ADD_FAILURE() << "net_echo: " << echo.out();

  // The kit's initramfs + the script (a second newc archive).
  const std::string initrd = dir.file("initramfs.cpio");
  if (!write_extended_initrd(kit, {{"net-test.sh", kNetScript, 0755}}, initrd)) {
    ADD_FAILURE() << "cannot write " << initrd;
    return run;
  }
  std::vector<std::string> argv;
  if (o.vmm == NetVmm::kQemu) {
    argv = ns.exec(qemu_argv(kit, initrd, o, ns.tap()));
  } else if (o.vmm == NetVmm::kKiln) {
    GuestOptions g;
    g.cpus = o.cpus;
    g.memory = o.memory;
    g.kiln_args = kiln_net_args(o, ns.tap());
    argv = ns.exec(kiln_guest_argv(kit, initrd, cmdline_for(o), g));
  }
  for (const auto& a : argv) run.argv += a + " ";
  run.agent.vmm = o.vmm == NetVmm::kKilnApi ? run_kiln_api(ns, kit, initrd, o) : run_child(argv, scaled(1200s));

  const std::string& out = run.agent.vmm.out;
  run.agent.ready = out.find("KILN-GUEST-READY") != std::string::npos;
  const auto begin = out.find("KILN-CMD-BEGIN");
  const auto end = out.find("KILN-CMD-END ");
  if (begin != std::string::npos && end != std::string::npos && end > begin) {
    const auto first = out.find('\n', begin);
    if (first != std::string::npos && first < end) run.agent.output = out.substr(first + 1, end - first - 1);
    run.agent.status = std::atoi(out.c_str() + end + 13);
  }
  run.values = guest_values(run.agent.output);
  (void)recv.wait(scaled(40s));
  run.received = read_file(from_guest);
  echo.send_signal(SIGTERM);
  run.echo_log = echo.wait(5s).out;
  return run;
}

}  // namespace kiln::test
