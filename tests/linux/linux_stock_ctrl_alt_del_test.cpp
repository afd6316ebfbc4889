// PUT /actions SendCtrlAltDel seen by a real keyboard driver: Debian's stock kernel (i8042 and
// atkbd built in) finds kiln's i8042 as the PNP0303 device of the DSDT, takes the Ctrl, Alt and
// Delete make codes from IRQ 1, and does what Linux does on Ctrl-Alt-Del by default (C_A_D=1):
// restarts, through the keyboard controller (reboot=k), so kiln exits with status 0.
#include <gtest/gtest.h>

#include "api_call.h"
#include "kvm_test_env.h"
#include "linux_guest.h"
#include "scratch_dir.h"

namespace kiln::test {
namespace {

using namespace std::chrono_literals;

// i8042.dumbkbd: kiln's keyboard answers no keyboard commands, so atkbd must not probe it (as
// Firecracker's guests do). The busy loops keep both vCPUs out of HLT: in the kvm-box (nested SVM
// emulated by QEMU TCG) an edge raised while the guest is about to halt is sometimes lost, and
// each of the four key bytes needs its own edge.
constexpr const char* kScript = R"SH(v() { echo "@$1=$2"; }
v pnp "$(dmesg | grep -c 'PNP: PS/2 Controller \[PNP0303:PS2K\] at 0x60,0x64')"
v kbd "$(dmesg | grep -c 'serio: i8042 KBD port at 0x60,0x64')"
v input "$(cat /sys/class/input/input0/name)"
v cad "$(cat /proc/sys/kernel/ctrl-alt-del)"
(while :; do :; done) & (while :; do :; done) &
echo "@cad-ready"
sleep 600
echo "@still-running"
)SH";

TEST(LinuxStock, SendCtrlAltDelRestartsTheGuestThroughItsKeyboardDriver) {
  KILN_REQUIRE_KVM();
  GuestKit kit;
  ASSERT_TRUE(stock_kit("KILN_STOCK_KERNEL", "KILN_STOCK_INITRD", "generic", kit));
  ScratchDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string sock = dir.file("api.sock");
  GuestOptions options;
  options.cpus = 2;
  options.kiln_args = {"--api-sock", sock};
  ChildProcess vmm(kiln_guest_argv(kit, kit.initrd,
                                   "console=ttyS0 reboot=k panic=-1 quiet i8042.dumbkbd kiln.cmd=" + base64(kScript),
                                   options));
  ASSERT_TRUE(vmm.wait_for_output("@cad-ready", scaled(900s))) << vmm.out();
  auto v = guest_values(vmm.out());
  EXPECT_EQ(v["pnp"], "1") << vmm.out();
  EXPECT_EQ(v["kbd"], "1") << vmm.out();
  EXPECT_EQ(v["input"], "AT Translated Set 2 keyboard");
  EXPECT_EQ(v["cad"], "1");

  const ApiReply sent = api_call(sock, "PUT", "/actions", R"({"action_type": "SendCtrlAltDel"})");
  ASSERT_EQ(sent.status, 204) << sent.body << sent.error;
  const ChildResult result = vmm.wait(scaled(300s));
  ASSERT_FALSE(result.timed_out) << result.out;
  EXPECT_EQ(result.exit_status, 0) << result.err;
  EXPECT_NE(result.out.find("reboot: Restarting system"), std::string::npos) << result.out;
  EXPECT_NE(result.err.find("guest reset (i8042)"), std::string::npos) << result.err;
  EXPECT_EQ(result.out.find("@still-running"), std::string::npos);
}

}  // namespace
}  // namespace kiln::test
