// The kiln guest kernel under kiln: SMP, memory, KVM detection, kvm-clock, the agent, reboot, panic;
// the boot under --profile-guest, whose report must name kernel functions.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "guest_profile.h"
#include "kvm_test_env.h"
#include "linux_guest.h"

namespace kiln::test {
namespace {

// The text symbols of the System.map the guest kit keeps next to its vmlinux (empty if none).
std::set<std::string> kit_text_symbols(const GuestKit& kit) {
  std::set<std::string> names;
  std::ifstream map(kit.kernel.substr(0, kit.kernel.rfind('/') + 1) + "System.map");
  std::string address, type, name;
  while (map >> address >> type >> name) {
    if (type == "T" || type == "t" || type == "W" || type == "w") names.insert(name);
  }
  return names;
}

// The boot's --profile-guest report: samples of the kernel, named after its functions.
void expect_kernel_profile(const GuestKit& kit, const std::string& err, int cpus) {
  const GuestProfile profile = parse_guest_profile(err);
  ASSERT_TRUE(profile.found) << err;
  EXPECT_GT(profile.samples, 0u) << err;
  EXPECT_NE(err.find(" from " + std::to_string(cpus) + " vCPU"), std::string::npos) << err;
  EXPECT_NE(err.find("symbols from " + kit.kernel), std::string::npos) << err;
  const auto symbols = kit_text_symbols(kit);
  size_t named = 0;
  for (const auto& row : profile.rows) {
    if (row.name.empty() || row.name[0] == '[' || row.name[0] == '(' || row.name.rfind("0x", 0) == 0) continue;
    ++named;
    if (!symbols.empty()) {
      EXPECT_EQ(symbols.count(row.name), 1u) << row.name << " is no function of the kernel\n" << err;
    }
  }
  EXPECT_GT(named, 0u) << "no kernel function in the profile\n" << err;
}


class LinuxBoot : public ::testing::TestWithParam<int> {};

TEST_P(LinuxBoot, ReadyWithCpusMemoryKvmAndKvmClock) {
  GuestKit kit;
  KILN_REQUIRE_GUEST_KIT(kit);
  const int cpus = GetParam();
  GuestOptions options;
  options.cpus = cpus;
  options.kiln_args = {"--profile-guest=100"};  // the boot profiled too (guest_profiler.h)
  auto run = run_in_guest(kit,
                          "nproc; grep MemTotal /proc/meminfo; dmesg | grep -c 'Hypervisor detected: KVM'; "
                          "cat /sys/devices/system/clocksource/clocksource0/current_clocksource",
                          options);
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
  expect_kernel_profile(kit, run.vmm.err, cpus);
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
