// Instructions without memory operands that KVM's emulator may not know.
#include "arch/x86_64/emulator/decoder.h"
#include "arch/x86_64/emulator/handlers.h"
#include "arch/x86_64/emulator/registers.h"

namespace kiln::x86::emu {

// int3 (SDM vol. 2A "INT n/INTO/INT3/INT1"): #BP is a trap, so RIP moves past
// the 0xcc before the exception is delivered.
Emu<void> emulate_int3(Context& /*ctx*/) {
  return raise(Exception{Injection{kVectorBreakpoint, false, 0}, std::nullopt, true});
}

// fwait (SDM vol. 2B "WAIT/FWAIT"): #NM when CR0.MP and CR0.TS are both set.
// Otherwise it would deliver a pending unmasked x87 exception; the x87 status
// word is not part of kvm_regs/kvm_sregs, so it is treated as a no-op (Linux
// uses it after fninit/fnclex, where nothing is pending).
Emu<void> emulate_fwait(Context& ctx) {
  const uint64_t cr0 = ctx.state.sregs.cr0;
  if ((cr0 & kCr0MonitorCoproc) != 0 && (cr0 & kCr0TaskSwitched) != 0) {
    return raise(Exception{Injection{kVectorNoMathCoproc, false, 0}, std::nullopt, false});
  }
  return {};
}

// clac / stac (SDM vol. 2A "CLAC", vol. 2B "STAC"): clear / set RFLAGS.AC;
// #UD above CPL 0 and in virtual-8086 mode. (The CPUID.SMAP #UD condition is
// the caller's CPUID policy: KVM only exits here if the guest ran it.)
Emu<void> emulate_clac_stac(Context& ctx) {
  if (current_privilege_level(ctx.state) != 0) return raise(invalid_opcode());
  const bool set = ctx.insn.insn.mnemonic == ZYDIS_MNEMONIC_STAC;
  update_flags(ctx.state, kFlagAc, set ? kFlagAc : 0);
  return {};
}

// xgetbv (SDM vol. 2C "XGETBV"): EDX:EAX = XCR[ECX]. #UD without
// CR4.OSXSAVE, #GP(0) for an unknown XCR. XCR0 comes from the caller
// (KVM_GET_XCRS). ECX = 1 (XINUSE & XCR0) is answered with XCR0: kiln cannot
// see the in-use bitmap, and "in use" is always a safe over-approximation.
Emu<void> emulate_xgetbv(Context& ctx) {
  if ((ctx.state.sregs.cr4 & kCr4OsXsave) == 0) return raise(invalid_opcode());
  const uint64_t index = ctx.state.regs.rcx & 0xffff'ffffull;
  if (index > 1) return raise(general_protection(0));
  ctx.state.regs.rax = ctx.state.xcr0 & 0xffff'ffffull;
  ctx.state.regs.rdx = ctx.state.xcr0 >> 32;
  return {};
}

// rdpid (SDM vol. 2B "RDPID"): destination = IA32_TSC_AUX (r64 in 64-bit
// mode, r32 otherwise; Zydis picks the register).
Emu<void> emulate_rdpid(Context& ctx) {
  const auto ops = ctx.insn.all_operands();
  if (ops.empty() || ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER) return fail("rdpid: unexpected operand layout");
  if (!ctx.state.tsc_aux) return fail("rdpid needs IA32_TSC_AUX, which the caller did not supply (CpuState::tsc_aux)");
  KILN_TRY(write_register(ctx.state, ops[0].reg.value, *ctx.state.tsc_aux));
  return {};
}

}  // namespace kiln::x86::emu
