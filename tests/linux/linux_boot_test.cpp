// The kiln guest kernel under kiln: SMP, memory, KVM detection, kvm-clock, the agent, reboot, panic.
#include <gtest/gtest.h>

#include <sstream>

#include "kvm_test_env.h"
#include "linux_guest.h"

namespace kiln::test {
namespace {


class LinuxBoot : public ::testing::TestWithParam<int> {};

TEST_P(LinuxBoot, ReadyWithCpusMemoryKvmAndKvmClock) {
  GuestKit kit;
  KILN_REQUIRE_GUEST_KIT(kit);
  const int cpus = GetParam();
  auto run = run_in_guest(kit,
                          "nproc; grep MemTotal /proc/meminfo; dmesg | grep -c 'Hypervisor detected: KVM'; "
                          "cat /sys/devices/system/clocksource/clocksource0/current_clocksource",
                          cpus, "256M");
  ASSERT_NO_FATAL_FAILURE(expect_agent_ran(run));  // kiln's status 0: the agent ends with reboot -f
  std::istringstream lines(run.output);
  std::string nproc, memtotal, kvm_lines, clocksource;
  std::getline(lines, nproc);
  std::getline(lines, memtotal);
  std::getline(lines, kvm_lines);
  std::getline(lines, clocksource);
  auto trim = [](std::string s) {
    while (!s.empty() && (s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
  };
  EXPECT_EQ(trim(nproc), std::to_string(cpus)) << run.output;
  long kib = 0;
  std::istringstream(memtotal.substr(memtotal.find(':') + 1)) >> kib;
  EXPECT_GT(kib, 200 * 1024) << memtotal;  // 256 MiB less what the kernel keeps for itself
  EXPECT_LE(kib, 256 * 1024) << memtotal;
  EXPECT_EQ(trim(kvm_lines), "1") << run.output;
  EXPECT_EQ(trim(clocksource), "kvm-clock") << run.output;
}

INSTANTIATE_TEST_SUITE_P(Cpus, LinuxBoot, ::testing::Values(1, 4));

TEST(LinuxBoot, PanicEndsKilnWithThePanicVisible) {
  GuestKit kit;
  KILN_REQUIRE_GUEST_KIT(kit);
  // No /init to run: the kernel panics; panic=-1 reboots at once, which ends kiln.
  auto run = run_in_guest(kit, "true", 1, "128M", "rdinit=/no-such-init");
  ASSERT_FALSE(run.vmm.timed_out) << run.vmm.out;
  EXPECT_NE(run.vmm.out.find("Kernel panic"), std::string::npos) << run.vmm.out;
  EXPECT_EQ(run.vmm.exit_status, 0) << run.vmm.err;
}

}  // namespace
}  // namespace kiln::test
