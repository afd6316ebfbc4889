// The guest profiler's histogram: grouping by function, ordering, the special rows, formatting.
#include <gtest/gtest.h>

#include "vmm/profile_report.h"

namespace kiln {
namespace {

using std::chrono::microseconds;
using Mode = VcpuProfile::Mode;

const SymbolTable& symbols() {
  static const SymbolTable t({{0xffffffff81000000, 0x100, 0, "default_idle", 0},
                              {0xffffffff81000100, 0x100, 0, "memset", 0},
                              {0x400000, 0x100, 0, "_ZN4kiln5probe10run_tickerERKNS0_7ContextE", 0}});
  return t;
}

void add(VcpuProfile& p, uint64_t rip, Mode mode, int n) {
  for (int i = 0; i < n; ++i) p.add(rip, mode, microseconds(10));
}

TEST(ProfileRows, GroupsByFunctionAcrossVcpusAndAddresses) {
  std::vector<VcpuProfile> vcpus(2);
  add(vcpus[0], 0xffffffff81000010, Mode::kKernel, 3);
  add(vcpus[1], 0xffffffff810000f0, Mode::kKernel, 4);  // same function, other RIP, other vCPU
  add(vcpus[0], 0xffffffff81000100, Mode::kKernel, 2);
  add(vcpus[1], 0x400010, Mode::kUser, 5);              // user mode, but named by the symbols
  add(vcpus[0], 0x7f0000001000, Mode::kUser, 1);        // unnamed user RIPs: one row
  add(vcpus[1], 0x7f0000002000, Mode::kUser, 1);
  add(vcpus[0], 0xffffffffa0000000, Mode::kKernel, 1);  // unnamed kernel RIP: its address
  vcpus[1].add_not_started(microseconds(1));
  const auto rows = profile_rows(vcpus, &symbols());
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[0].name, "default_idle");
  EXPECT_EQ(rows[0].samples, 7u);
  EXPECT_EQ(rows[1].name, "kiln::probe::run_ticker(kiln::probe::Context const&)");
  EXPECT_EQ(rows[1].samples, 5u);
  EXPECT_EQ(rows[2].name, kUserRowName);
  EXPECT_EQ(rows[2].samples, 2u);
  EXPECT_EQ(rows[3].name, "memset");  // ties: by name ("[user]" sorts first) -- 2 each
  EXPECT_EQ(rows[4].name, "0xffffffffa0000000");  // 1 each, by name
  EXPECT_EQ(rows[5].name, kNotStartedRowName);
}

TEST(ProfileRows, WithoutSymbolsKernelAddressesStayApart) {
  std::vector<VcpuProfile> vcpus(1);
  add(vcpus[0], 0xffffffff81000010, Mode::kKernel, 2);
  add(vcpus[0], 0xffffffff81000020, Mode::kKernel, 1);
  add(vcpus[0], 0x400010, Mode::kUser, 1);
  const auto rows = profile_rows(vcpus, nullptr);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].name, "0xffffffff81000010");
  EXPECT_EQ(rows[1].name, "0xffffffff81000020");
  EXPECT_EQ(rows[2].name, kUserRowName);
}

ProfileSummary summary() {
  ProfileSummary s;
  s.hz = 250;
  s.vcpus = 2;
  s.elapsed = std::chrono::seconds(2);
  s.cost = std::chrono::milliseconds(8);  // over 8 samples: 1000 us each; 8 ms of 4 vCPU-seconds: 0.20%
  s.symbols = "/boot/vmlinux";
  s.functions = 1234;
  return s;
}

TEST(ProfileFormat, HeaderRowsAndRest) {
  const std::vector<ProfileRow> rows{{"default_idle", 4}, {"memset", 2}, {"[user]", 1}, {"0xffffffff81000000", 1}};
  const std::string out = format_profile(rows, summary(), 2);
  EXPECT_EQ(out,
            "guest profile: 8 samples from 2 vCPUs at 250 Hz over 2.0 s; symbols from /boot/vmlinux (1234 functions)\n"
            "sampling cost: 1000.0 us per sample in the vCPU threads, 0.20% of vCPU time (the VM exit and re-entry "
            "not counted)\n"
            " samples       %  function\n"
            "       4   50.0%  default_idle\n"
            "       2   25.0%  memset\n"
            "       2   25.0%  (2 more)\n");
}

TEST(ProfileFormat, AllRowsFitAndLostSamples) {
  ProfileSummary s = summary();
  s.symbols.clear();
  s.vcpus = 1;
  s.failed = 3;
  const std::string out = format_profile({{"0x1000", 8}}, s, 25);
  EXPECT_NE(out.find("from 1 vCPU at 250 Hz over 2.0 s; no symbols (addresses only)\n"), std::string::npos) << out;
  EXPECT_NE(out.find("3 samples lost"), std::string::npos) << out;
  EXPECT_NE(out.find("       8  100.0%  0x1000\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("more)"), std::string::npos) << out;
}

TEST(ProfileFormat, NoSamples) {
  const std::string out = format_profile({}, summary(), 25);
  EXPECT_EQ(out, "guest profile: 0 samples from 2 vCPUs at 250 Hz over 2.0 s; symbols from /boot/vmlinux (1234 "
                 "functions)\n");
}

}  // namespace
}  // namespace kiln
