// virtio-console from inside the kiln guest kernel: hvc0 as the only console, carrying the kernel
// log and an interactive shell. Its own boot (the console is chosen at boot); the disks and the rng
// are tested on restores of one booted guest (linux_restored_test.cpp).
#include <gtest/gtest.h>

#include <cstdio>

#include "kvm_test_env.h"
#include "linux_guest.h"

namespace kiln::test {
namespace {

using namespace std::chrono_literals;


// SMP guests: the device's interrupts go to any vCPU (the kvm-box runs these with one box vCPU,
// see README.md).
constexpr int kGuestCpus = 2;

TEST(LinuxVirtio, Hvc0CarriesTheConsoleAndAnInteractiveShell) {
  GuestKit kit;
  KILN_REQUIRE_GUEST_KIT(kit);
  GuestOptions options;
  options.cpus = kGuestCpus;
  options.kiln_args = {"--console", "virtio"};
  // hvc0 is the only console: the kernel log, the agent and the shell all go through virtio-console.
  ChildProcess vmm(kiln_guest_argv(kit, kit.initrd, "console=hvc0 reboot=k panic=-1 kiln.shell=1", options),
                   ChildStdin::kPipe);
  ASSERT_TRUE(vmm.wait_for_output("KILN-CMD-BEGIN", scaled(600s))) << vmm.out();
  const size_t begin = vmm.out().find("KILN-CMD-BEGIN");
  (void)vmm.wait_for_output("# ", scaled(60s), begin);  // ash's prompt; input typed earlier waits in the tty
  // Typed on kiln's stdin: kernel messages off (they would interleave), then output the echo of
  // the typed line cannot contain ($((...)) is expanded by the shell), a 600-byte line, 3000 lines.
  const std::string line(600, 'k');
  ASSERT_TRUE(vmm.send("echo 1 > /proc/sys/kernel/printk; cat /sys/class/tty/console/active; "
                       "echo sum-$((6*7)); echo " + line + " | wc -c; echo mark-$((1+1)); seq 1 3000; "
                       "echo mark-$((2+1)); exit 3\n"));
  const auto result = vmm.wait(scaled(300s));
  ASSERT_FALSE(result.timed_out) << result.out;
  EXPECT_EQ(result.exit_status, 0) << result.err;
  const std::string out = without_cr(result.out);
  // ttyS0 is no console here: kernel messages on kiln's stdout came through hvc0.
  EXPECT_NE(out.find("Run /init as init process"), std::string::npos) << "no kernel log on hvc0:\n" << out;
  const size_t shell = out.find("KILN-CMD-BEGIN");
  ASSERT_NE(shell, std::string::npos) << out;
  EXPECT_NE(out.find("\nhvc0\n", shell), std::string::npos) << out;
  EXPECT_NE(out.find("\nsum-42\n", shell), std::string::npos) << out;
  EXPECT_NE(out.find("\n601\n", shell), std::string::npos) << out;
  const size_t mark2 = out.find("\nmark-2\n", shell);
  const size_t mark3 = out.find("mark-3\n", shell);
  ASSERT_NE(mark2, std::string::npos) << out;
  ASSERT_NE(mark3, std::string::npos) << out;
  ASSERT_GT(mark3, mark2) << out;
  const std::string lines = out.substr(mark2 + 8, mark3 - mark2 - 8);
  EXPECT_TRUE(lines == seq_text(1, 3000)) << "seq output through hvc0 differs at byte "
                                          << first_difference(lines, seq_text(1, 3000)) << ":\n" << lines;
  EXPECT_NE(out.find("KILN-CMD-END 3", shell), std::string::npos) << out;
}

}  // namespace
}  // namespace kiln::test
