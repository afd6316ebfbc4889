#include "arch/x86_64/emulator/registers.h"

#include <array>

namespace kiln::x86::emu {
namespace {

// kvm_regs fields in x86 register-number order (RAX = 0 ... R15 = 15).
constexpr std::array<__u64 kvm_regs::*, 16> kGprFields = {
    &kvm_regs::rax, &kvm_regs::rcx, &kvm_regs::rdx, &kvm_regs::rbx, &kvm_regs::rsp, &kvm_regs::rbp,
    &kvm_regs::rsi, &kvm_regs::rdi, &kvm_regs::r8,  &kvm_regs::r9,  &kvm_regs::r10, &kvm_regs::r11,
    &kvm_regs::r12, &kvm_regs::r13, &kvm_regs::r14, &kvm_regs::r15};

struct GprSlot {
  __u64 kvm_regs::*field = nullptr;
  unsigned width = 0;  // bits
  unsigned shift = 0;  // 8 for AH/CH/DH/BH
};

bool is_gpr(ZydisRegister reg) {
  switch (ZydisRegisterGetClass(reg)) {
    case ZYDIS_REGCLASS_GPR8:
    case ZYDIS_REGCLASS_GPR16:
    case ZYDIS_REGCLASS_GPR32:
    case ZYDIS_REGCLASS_GPR64: return true;
    default: return false;
  }
}

std::optional<GprSlot> gpr_slot(ZydisRegister reg) {
  switch (reg) {  // the legacy high-byte registers alias bits 15:8
    case ZYDIS_REGISTER_AH: return GprSlot{&kvm_regs::rax, 8, 8};
    case ZYDIS_REGISTER_CH: return GprSlot{&kvm_regs::rcx, 8, 8};
    case ZYDIS_REGISTER_DH: return GprSlot{&kvm_regs::rdx, 8, 8};
    case ZYDIS_REGISTER_BH: return GprSlot{&kvm_regs::rbx, 8, 8};
    default: break;
  }
  if (!is_gpr(reg)) return std::nullopt;
  const ZydisRegister full = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, reg);
  const ZyanI8 id = ZydisRegisterGetId(full);
  if (id < 0 || static_cast<size_t>(id) >= kGprFields.size()) return std::nullopt;
  return GprSlot{kGprFields[static_cast<size_t>(id)], gpr_width(reg), 0};
}

}  // namespace

unsigned gpr_width(ZydisRegister reg) {
  if (!is_gpr(reg)) return 0;
  return ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, reg);
}

Result<uint64_t> read_register(const Context& ctx, ZydisRegister reg) {
  switch (reg) {
    case ZYDIS_REGISTER_RIP: return ctx.next_rip;
    case ZYDIS_REGISTER_EIP: return ctx.next_rip & 0xffff'ffffull;
    case ZYDIS_REGISTER_IP: return ctx.next_rip & 0xffffull;
    default: break;
  }
  const auto slot = gpr_slot(reg);
  if (!slot) return fail("emulator cannot read register {}", ZydisRegisterGetString(reg));
  return (ctx.state.regs.*(slot->field) >> slot->shift) & width_mask(slot->width);
}

Status write_register(CpuState& state, ZydisRegister reg, uint64_t value) {
  const auto slot = gpr_slot(reg);
  if (!slot) return fail("emulator cannot write register {}", ZydisRegisterGetString(reg));
  __u64& field = state.regs.*(slot->field);
  if (slot->width >= 32) {
    field = value & width_mask(slot->width);  // 32-bit writes zero-extend to 64
    return {};
  }
  const uint64_t mask = width_mask(slot->width) << slot->shift;
  field = (field & ~mask) | ((value << slot->shift) & mask);
  return {};
}

void update_flags(CpuState& state, uint64_t mask, uint64_t values) {
  state.regs.rflags = (state.regs.rflags & ~mask) | (values & mask);
}

}  // namespace kiln::x86::emu
