// Boot vCPU register state for both entry modes, and the GDT encoding.
#include <gtest/gtest.h>

#include "arch/x86_64/cpu_state.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/layout.h"

namespace kiln::x86 {
namespace {

// Roughly what KVM_GET_SREGS returns after vCPU reset.
kvm_sregs reset_sregs() {
  kvm_sregs s{};
  s.cr0 = 0x60000010;  // CD | NW | ET
  s.apic_base = 0xfee00900;
  s.cs.selector = 0xf000;
  s.cs.base = 0xffff0000;
  return s;
}

void expect_flat_data(const kvm_segment& s) {
  EXPECT_EQ(s.selector, kDataSelector);
  EXPECT_EQ(s.base, 0u);
  EXPECT_EQ(s.limit, 0xffffffffu);
  EXPECT_EQ(s.type, 3);  // read/write, accessed
  EXPECT_EQ(s.present, 1);
  EXPECT_EQ(s.s, 1);
  EXPECT_EQ(s.db, 1);
  EXPECT_EQ(s.g, 1);
  EXPECT_EQ(s.l, 0);
  EXPECT_EQ(s.unusable, 0);
}

TEST(ArchGdt, EncodesFlatDescriptors) {
  const auto gdt = boot_gdt();
  EXPECT_EQ(gdt[0], 0u);
  EXPECT_EQ(gdt[kCode32Selector >> 3], 0x00cf9b000000ffffu);
  EXPECT_EQ(gdt[kCode64Selector >> 3], 0x00af9b000000ffffu);
  EXPECT_EQ(gdt[kDataSelector >> 3], 0x00cf93000000ffffu);
  EXPECT_EQ(gdt[kTssSelector >> 3], 0x00008b0000000067u);
  EXPECT_EQ(gdt_entry(0x12345678, 0xabcde, 0x93, 0x4), 0x124a93345678bcdeu);
}

TEST(ArchGdt, DecodesBaseAndLimit) {
  const std::array<uint64_t, kGdtEntries> gdt{0, gdt_entry(0x12345678, 0xabcde, 0x93, 0x4), 0, 0, 0, 0};
  const auto s = segment_from_gdt(gdt, 0x08);
  EXPECT_EQ(s.base, 0x12345678u);
  EXPECT_EQ(s.limit, 0xabcdeu);  // byte granular
  EXPECT_EQ(s.db, 1);
  EXPECT_EQ(s.g, 0);
  EXPECT_EQ(segment_from_gdt(gdt, 0x10).unusable, 1);  // null descriptor
}

TEST(ArchCpuState, Long64) {
  const BootEntry entry{EntryMode::kLong64, GuestAddress(0x1000200), kZeroPageAddr, "bzImage"};
  kvm_regs regs{};
  regs.rax = 0xdead;  // replaced wholesale
  kvm_sregs sregs = reset_sregs();
  set_boot_registers(entry, regs, sregs);

  EXPECT_EQ(regs.rip, 0x1000200u);
  EXPECT_EQ(regs.rsi, kZeroPageAddr.raw());
  EXPECT_EQ(regs.rflags, 2u);
  EXPECT_EQ(regs.rsp, kBootStackPointer.raw());
  EXPECT_EQ(regs.rbp, kBootStackPointer.raw());
  EXPECT_EQ(regs.rax, 0u);

  EXPECT_EQ(sregs.cs.selector, 0x10);
  EXPECT_EQ(sregs.cs.base, 0u);
  EXPECT_EQ(sregs.cs.limit, 0xffffffffu);
  EXPECT_EQ(sregs.cs.type, 0xb);  // execute/read, accessed
  EXPECT_EQ(sregs.cs.l, 1);
  EXPECT_EQ(sregs.cs.db, 0);  // L=1 requires D=0
  EXPECT_EQ(sregs.cs.present, 1);
  EXPECT_EQ(sregs.cs.s, 1);
  EXPECT_EQ(sregs.cs.dpl, 0);
  for (const auto* s : {&sregs.ds, &sregs.es, &sregs.fs, &sregs.gs, &sregs.ss}) expect_flat_data(*s);
  EXPECT_EQ(sregs.tr.selector, kTssSelector);
  EXPECT_EQ(sregs.tr.type, 11);
  EXPECT_EQ(sregs.tr.s, 0);
  EXPECT_EQ(sregs.tr.limit, 0x67u);
  EXPECT_EQ(sregs.tr.present, 1);

  EXPECT_EQ(sregs.gdt.base, kGdtAddr.raw());
  EXPECT_EQ(sregs.gdt.limit, kGdtEntries * 8 - 1);
  EXPECT_EQ(sregs.idt.limit, 0);
  EXPECT_EQ(sregs.cr0, kCr0Pe | kCr0Et | kCr0Ne | kCr0Pg);
  EXPECT_EQ(sregs.cr0 & (kCr0Cd | kCr0Nw), 0u);
  EXPECT_EQ(sregs.cr3, kPml4Addr.raw());
  EXPECT_EQ(sregs.cr4, kCr4Pae);
  EXPECT_EQ(sregs.efer, kEferLme | kEferLma);
  EXPECT_EQ(sregs.apic_base, 0xfee00900u);  // untouched
}

TEST(ArchCpuState, Pvh32) {
  const BootEntry entry{EntryMode::kPvh32, GuestAddress(0x1000100), kPvhStartInfoAddr, "PVH ELF"};
  kvm_regs regs{};
  kvm_sregs sregs = reset_sregs();
  sregs.efer = kEferLme;  // whatever was there is cleared
  set_boot_registers(entry, regs, sregs);

  EXPECT_EQ(regs.rip, 0x1000100u);
  EXPECT_EQ(regs.rbx, kPvhStartInfoAddr.raw());
  EXPECT_EQ(regs.rsi, 0u);
  EXPECT_EQ(regs.rflags, 2u);

  EXPECT_EQ(sregs.cs.selector, kCode32Selector);
  EXPECT_EQ(sregs.cs.base, 0u);
  EXPECT_EQ(sregs.cs.limit, 0xffffffffu);
  EXPECT_EQ(sregs.cs.type, 0xb);
  EXPECT_EQ(sregs.cs.db, 1);
  EXPECT_EQ(sregs.cs.l, 0);
  EXPECT_EQ(sregs.cs.g, 1);
  for (const auto* s : {&sregs.ds, &sregs.es, &sregs.fs, &sregs.gs, &sregs.ss}) expect_flat_data(*s);
  EXPECT_EQ(sregs.tr.type, 11);
  EXPECT_EQ(sregs.tr.limit, 0x67u);
  EXPECT_EQ(sregs.cr0, kCr0Pe);
  EXPECT_EQ(sregs.cr4, 0u);
  EXPECT_EQ(sregs.efer, 0u);
}

TEST(ArchCpuState, BootFpu) {
  const kvm_fpu fpu = boot_fpu();
  EXPECT_EQ(fpu.fcw, 0x37f);
  EXPECT_EQ(fpu.mxcsr, 0x1f80u);
  EXPECT_EQ(fpu.fsw, 0);
}

}  // namespace
}  // namespace kiln::x86
