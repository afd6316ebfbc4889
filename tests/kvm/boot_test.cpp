// Boots each test guest through its boot path and checks what it reports from inside.
#include <gtest/gtest.h>


#include "guest_report.h"
#include "kvm_test_env.h"

namespace kiln::test {
namespace {

using namespace std::chrono_literals;

struct BootPath {
  const char* name;
  const char* guest;
  const char* expect_boot;
  friend void PrintTo(const BootPath& p, std::ostream* os) { *os << p.name; }
};

// e820 per kiln's x86 layout: low RAM, the EBDA/BIOS hole, RAM from 1 MiB, RAM above 4 GiB.
constexpr uint64_t kLowRamEnd = 0x9fc00;
constexpr uint64_t kHighStart = 1ull << 20;
constexpr uint64_t kHoleStart = 3ull << 30;
constexpr uint64_t k4G = 4ull << 30;

uint64_t usable_ram(uint64_t memory) { return memory - (kHighStart - kLowRamEnd); }

void expect_e820(const GuestReport& r, uint64_t memory) {
  ASSERT_GE(r.e820.size(), 3u);
  EXPECT_EQ(r.e820[0].start, 0u);
  EXPECT_EQ(r.e820[0].size, kLowRamEnd);
  EXPECT_EQ(r.e820[0].type, 1u);
  EXPECT_EQ(r.e820[1].start, kLowRamEnd);
  EXPECT_EQ(r.e820[1].type, 2u);
  EXPECT_EQ(r.e820[2].start, kHighStart);
  EXPECT_EQ(r.e820[2].size, std::min(memory, kHoleStart) - kHighStart);
  EXPECT_EQ(r.e820[2].type, 1u);
  if (memory > kHoleStart) {
    ASSERT_EQ(r.e820.size(), 4u);
    EXPECT_EQ(r.e820[3].start, k4G);
    EXPECT_EQ(r.e820[3].size, memory - kHoleStart);
    EXPECT_EQ(r.e820[3].type, 1u);
  } else {
    EXPECT_EQ(r.e820.size(), 3u);
  }
  EXPECT_EQ(r.ram, usable_ram(memory));
}

class BootPathTest : public ::testing::TestWithParam<BootPath> {};

TEST_P(BootPathTest, ReportsBootDataAndResets) {
  KILN_REQUIRE_KVM();
  const auto initrd_bytes = random_bytes(300 * 1024 + 17, 42);
  TempFile initrd(initrd_bytes);
  const std::string cmdline = "console=ttyS0 hello=world quoted\"x\" action=reset";
  auto r = run_child(kiln_run({"--kernel", GetParam().guest, "--initrd", initrd.path(), "--cmdline", cmdline,
                               "--memory", "128M"}),
                     scaled(30s));
  ASSERT_FALSE(r.timed_out) << r.out << r.err;
  EXPECT_EQ(r.exit_status, 0) << r.err;
  auto report = parse_guest_report(r.out);
  ASSERT_TRUE(report) << "no complete guest report in:\n" << r.out << "\nstderr:\n" << r.err;
  EXPECT_EQ(report->boot, GetParam().expect_boot);
  EXPECT_EQ(report->result, "ok");
  EXPECT_EQ(report->cmdline, as_booted(cmdline));
  expect_e820(*report, 128ull << 20);
  ASSERT_TRUE(report->has_initrd);
  EXPECT_EQ(report->initrd_size, initrd_bytes.size());
  EXPECT_EQ(report->initrd_fnv, fnv1a64(initrd_bytes)) << "initrd bytes changed on the way in";
  EXPECT_EQ(report->initrd_addr % 4096, 0u);
  EXPECT_GE(report->initrd_addr, kHighStart);
  EXPECT_LE(report->initrd_addr + report->initrd_size, 128ull << 20);
  EXPECT_NE(r.err.find("guest reset"), std::string::npos) << r.err;
}

TEST_P(BootPathTest, NoInitrdAndDefaultCmdline) {
  KILN_REQUIRE_KVM();
  auto r = run_child(kiln_run({"--kernel", GetParam().guest}), scaled(30s));
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_status, 0) << r.err;
  auto report = parse_guest_report(r.out);
  ASSERT_TRUE(report) << r.out << r.err;
  EXPECT_FALSE(report->has_initrd);
  EXPECT_EQ(report->cmdline, as_booted("console=ttyS0 reboot=k panic=1"));
  expect_e820(*report, 256ull << 20);
  EXPECT_EQ(report->result, "ok");
}

TEST(Boot, NoxsaveGivenIsNotAddedAgain) {
  KILN_REQUIRE_KVM();
  const std::string cmdline = "console=ttyS0 noxsave action=reset";
  auto r = run_child(kiln_run({"--kernel", KILN_GUEST_PVH, "--cmdline", cmdline, "--memory", "128M"}), scaled(30s));
  ASSERT_FALSE(r.timed_out);
  auto report = parse_guest_report(r.out);
  ASSERT_TRUE(report) << r.out << r.err;
  EXPECT_EQ(report->cmdline, cmdline);
}

INSTANTIATE_TEST_SUITE_P(AllPaths, BootPathTest,
                         ::testing::Values(BootPath{"pvh", KILN_GUEST_PVH, "pvh"},
                                           BootPath{"elf64", KILN_GUEST_ELF64, "elf64"},
                                           BootPath{"bzimage", KILN_GUEST_BZIMAGE, "bzimage"}),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(Boot, MemoryAboveTheHole) {
  KILN_REQUIRE_KVM();
  // 4 GiB of RAM: 3 GiB below the MMIO hole, 1 GiB from 4 GiB (untouched pages cost nothing).
  auto r = run_child(kiln_run({"--kernel", KILN_GUEST_PVH, "--memory", "4G"}), scaled(30s));
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_status, 0) << r.err;
  auto report = parse_guest_report(r.out);
  ASSERT_TRUE(report) << r.out << r.err;
  expect_e820(*report, 4ull << 30);
}

TEST(Boot, LargeInitrdArrivesIntact) {
  KILN_REQUIRE_KVM();
  const auto bytes = random_bytes(8 * 1024 * 1024 + 3, 7);
  TempFile initrd(bytes);
  auto r = run_child(kiln_run({"--kernel", KILN_GUEST_BZIMAGE, "--initrd", initrd.path(), "--memory", "64M"}),
                     scaled(120s));
  ASSERT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_status, 0) << r.err;
  auto report = parse_guest_report(r.out);
  ASSERT_TRUE(report) << r.out << r.err;
  EXPECT_EQ(report->initrd_size, bytes.size());
  EXPECT_EQ(report->initrd_fnv, fnv1a64(bytes));
}

}  // namespace
}  // namespace kiln::test
