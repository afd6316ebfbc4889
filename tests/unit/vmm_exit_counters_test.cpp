// The per-vCPU exit counters and the one-line summary kiln logs when the VM stops.
#include <gtest/gtest.h>

#include "kvm/uapi.h"
#include "vmm/exit_counters.h"

namespace kiln {
namespace {

TEST(ExitCounters, CountEachReasonAndTheTotal) {
  ExitCounters c;
  for (int i = 0; i < 5; ++i) c.record(KVM_EXIT_IO);
  c.record(KVM_EXIT_MMIO);
  c.record(KVM_EXIT_MMIO);
  c.record(KVM_EXIT_HLT);
  EXPECT_EQ(c.count(KVM_EXIT_IO), 5u);
  EXPECT_EQ(c.count(KVM_EXIT_MMIO), 2u);
  EXPECT_EQ(c.count(KVM_EXIT_HLT), 1u);
  EXPECT_EQ(c.count(KVM_EXIT_INTR), 0u);
  EXPECT_EQ(c.total(), 8u);
}

TEST(ExitCounters, ReasonsPastTheTableShareTheLastSlot) {
  ExitCounters c;
  c.record(1000);
  c.record(ExitCounters::kSlots);
  EXPECT_EQ(c.count(ExitCounters::kSlots - 1), 2u);
  EXPECT_EQ(c.count(4000), 2u);
  EXPECT_EQ(c.total(), 2u);
}

TEST(ExitCounters, SummaryAddsTheVcpusAndSortsReasonsByCount) {
  ExitCounters a;
  ExitCounters b;
  for (int i = 0; i < 3; ++i) a.record(KVM_EXIT_MMIO);
  a.record(KVM_EXIT_IO);
  for (int i = 0; i < 3; ++i) b.record(KVM_EXIT_IO);
  b.record(KVM_EXIT_INTR);
  b.record(KVM_EXIT_INTERNAL_ERROR);
  b.record(13);  // KVM_EXIT_S390_SIEIC: no x86 name
  EXPECT_EQ(exit_summary({&a, &b}), "10 (io 4, mmio 3, intr 1, reason 13 1, internal-error 1); per vCPU 4 6");
}

TEST(ExitCounters, SummaryOfAnIdleVm) {
  ExitCounters a;
  EXPECT_EQ(exit_summary({&a}), "0 (none); per vCPU 0");
  EXPECT_EQ(exit_summary({}), "0 (none); per vCPU");
}

TEST(ExitCounters, NamesOfTheX86Reasons) {
  EXPECT_EQ(exit_reason_name(KVM_EXIT_IO), "io");
  EXPECT_EQ(exit_reason_name(KVM_EXIT_SHUTDOWN), "shutdown");
  EXPECT_EQ(exit_reason_name(KVM_EXIT_SYSTEM_EVENT), "system-event");
  EXPECT_EQ(exit_reason_name(KVM_EXIT_X86_WRMSR), "wrmsr");
  EXPECT_EQ(exit_reason_name(99), "reason 99");
}

}  // namespace
}  // namespace kiln
