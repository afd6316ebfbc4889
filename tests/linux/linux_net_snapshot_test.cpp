// A TCP connection across a snapshot (label linux): the kiln guest kernel with --net boots in a
// namespace of its own (net_guest.h) and keeps one TCP connection to net_tcp echo in the namespace,
// writing a numbered line every 0.5 s and reading the echoes. The VM is paused and snapshotted
// through the API after a few lines, kiln killed, and the snapshot restored in a new kiln on the
// same tap: the connection carries on (every line echoed, before and after), and after the restore
// the guest announced itself (a gratuitous ARP for 10.0.2.2 on the tap: VIRTIO_NET_S_ANNOUNCE).
// Boot-based: the ready guest of the restored tests has no network device.
#include <gtest/gtest.h>

#include <csignal>
#include <regex>

#include "api_call.h"
#include "host_files.h"
#include "linux_guest.h"
#include "net_guest.h"
#include "net_namespace.h"
#include "scratch_dir.h"

namespace kiln::test {
namespace {

using namespace std::chrono_literals;

constexpr int kLines = 40;

constexpr const char* kScript = R"SH(v() { echo "@$1=$2"; }
if [ -d /lib/modules/stock ]; then
  for m in $(cat /lib/modules/stock/order); do insmod /lib/modules/stock/$m.ko; done
fi
i=0; while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
ip link set lo up; ip addr add 10.0.2.2/24 dev eth0; ip link set eth0 up
ping -c 1 -W 20 10.0.2.1 > /dev/null; v ping $?
mkfifo /tmp/f
nc 10.0.2.1 5003 < /tmp/f > /tmp/r &
exec 3> /tmp/f
i=0
while [ $i -lt 40 ]; do i=$((i + 1)); echo "line $i" >&3; echo "@tick=$i"; sleep 0.5; done
sleep 3
v echoed "$(grep -c '^line ' /tmp/r)"
v last "$(tail -n 1 /tmp/r)"
exec 3>&-
exit 0
)SH";

int garp_count(const std::string& log) {
  static const std::regex garp(R"(arp op=\d+ sender_mac=\S+ sender_ip=10\.0\.2\.2 target_ip=10\.0\.2\.2)");
  return static_cast<int>(std::distance(std::sregex_iterator(log.begin(), log.end(), garp), std::sregex_iterator()));
}

TEST(LinuxNet, TcpConnectionSurvivesSnapshotRestoreAndTheGuestAnnouncesItself) {
  GuestKit kit;
  KILN_REQUIRE_GUEST_KIT(kit);
  KILN_REQUIRE_NET_SANDBOX();
  NetNamespace ns;
  ASSERT_EQ(ns.error(), "");
  ScratchDir dir;
  ASSERT_TRUE(dir.ok());
  ChildProcess& server = ns.start({KILN_NET_TCP, "echo", "5003"});
  ASSERT_TRUE(server.wait_for_output("net_tcp listening", scaled(120s))) << server.out();
  ChildProcess& echo = ns.start({KILN_NET_ECHO, ns.tap(), "--arp"});
  ASSERT_TRUE(echo.wait_for_output("net_echo ready", scaled(120s))) << echo.out();

  const std::string initrd = dir.file("initramfs.cpio");
  ASSERT_TRUE(write_extended_initrd(kit, {{"net-snap.sh", kScript, 0755}}, initrd));
  const std::string sock = dir.file("api.sock");
  GuestOptions g;
  g.kiln_args = {"--net", "tap=" + ns.tap() + ",mac=" + kGuestMac, "--api-sock", sock};
  const std::string cmdline = "console=ttyS0 reboot=k panic=-1 quiet kiln.cmd=" + base64("sh /net-snap.sh");
  ChildProcess& first = ns.start(kiln_guest_argv(kit, initrd, cmdline, g));
  ASSERT_TRUE(first.wait_for_output("@tick=8\r\n", scaled(1200s))) << first.out() << first.wait(1s).err;
  ASSERT_TRUE(server.wait_for_output("echoed line 8", scaled(240s))) << server.out();

  const std::string snap = dir.file("vm.snap");
  const std::string mem = dir.file("vm.mem");
  ASSERT_EQ(api_call(sock, "PATCH", "/vm", R"({"state": "Paused"})").status, 204);
  const ApiReply created = api_call(sock, "PUT", "/snapshot/create",
                                    R"({"snapshot_type": "Full", "snapshot_path": ")" + snap +
                                        R"(", "mem_file_path": ")" + mem + R"("})");
  ASSERT_EQ(created.status, 204) << created.body << created.error;
  first.send_signal(SIGKILL);
  const ChildResult first_life = first.wait(30s);
  (void)echo.wait_for_output("no such text", 300ms);
  const size_t arp_before = echo.out().size();

  // The same tap, now free again; the guest's TCP peer never went away.
  ChildProcess& restored = ns.start({KILN_BINARY, "restore", "--snapshot", snap, "--mem", mem});
  const ChildResult second = restored.wait(scaled(1200s));
  SCOPED_TRACE("first life:\n" + first_life.out + "\nrestored:\n" + second.out + second.err);
  ASSERT_FALSE(second.timed_out);
  EXPECT_EQ(second.exit_status, 0);
  const std::string console = first_life.out + second.out;
  ASSERT_NE(console.find("KILN-CMD-END 0"), std::string::npos);
  auto v = guest_values(without_cr(console));
  EXPECT_EQ(v["ping"], "0");
  EXPECT_EQ(v["echoed"], std::to_string(kLines)) << "every line came back over the one connection";
  EXPECT_EQ(v["last"], "line " + std::to_string(kLines));
  // The guest closed its end: the server got EOF and ends; everything it echoed is in its output.
  const std::string echoed = server.wait(scaled(120s)).out;
  for (int i = 1; i <= kLines; ++i) {
    EXPECT_NE(echoed.find("line " + std::to_string(i) + " "), std::string::npos) << i << ":\n" << echoed;
  }

  echo.send_signal(SIGTERM);
  const std::string arp_log = echo.wait(5s).out;
  const std::string after = arp_log.substr(std::min(arp_before, arp_log.size()));
  EXPECT_GE(garp_count(after), 1) << "no gratuitous ARP for 10.0.2.2 after the restore; ARP seen:\n" << arp_log;
}

}  // namespace
}  // namespace kiln::test
