#include "arch/x86_64/cpu_state.h"

#include "arch/x86_64/gdt.h"
#include "arch/x86_64/layout.h"

namespace kiln::x86 {

namespace {
constexpr uint16_t kFpuControlWord = 0x37f;
constexpr uint32_t kMxcsrDefault = 0x1f80;
}  // namespace

void set_boot_registers(const BootEntry& entry, kvm_regs& regs, kvm_sregs& sregs) {
  const auto gdt = boot_gdt();
  const bool long_mode = entry.mode == EntryMode::kLong64;

  sregs.cs = segment_from_gdt(gdt, long_mode ? kCode64Selector : kCode32Selector);
  const kvm_segment data = segment_from_gdt(gdt, kDataSelector);
  sregs.ds = data;
  sregs.es = data;
  sregs.fs = data;
  sregs.gs = data;
  sregs.ss = data;
  sregs.tr = segment_from_gdt(gdt, kTssSelector);
  sregs.gdt.base = kGdtAddr.raw();
  sregs.gdt.limit = kGdtLimit;
  sregs.idt.base = 0;
  sregs.idt.limit = 0;

  regs = kvm_regs{};
  regs.rip = entry.entry.raw();
  regs.rflags = kRflagsReserved1;
  regs.rsp = kBootStackPointer.raw();
  regs.rbp = kBootStackPointer.raw();

  if (long_mode) {
    sregs.cr0 = kCr0Pe | kCr0Et | kCr0Ne | kCr0Pg;
    sregs.cr3 = kPml4Addr.raw();
    sregs.cr4 = kCr4Pae;
    sregs.efer = kEferLme | kEferLma;
    regs.rsi = entry.boot_info.raw();
  } else {
    sregs.cr0 = kCr0Pe;
    sregs.cr3 = 0;
    sregs.cr4 = 0;
    sregs.efer = 0;
    regs.rbx = entry.boot_info.raw();
  }
}

kvm_fpu boot_fpu() {
  kvm_fpu fpu{};
  fpu.fcw = kFpuControlWord;
  fpu.mxcsr = kMxcsrDefault;
  return fpu;
}

}  // namespace kiln::x86
