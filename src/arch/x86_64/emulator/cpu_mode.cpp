#include "arch/x86_64/emulator/cpu_mode.h"

namespace kiln::x86 {

CpuMode cpu_mode(const CpuState& state) {
  const auto& s = state.sregs;
  if ((s.cr0 & kCr0ProtectionEnable) == 0) return CpuMode::kReal;
  if ((s.efer & kEferLongActive) != 0) {
    if (s.cs.l != 0) return CpuMode::kLong64;
    return s.cs.db != 0 ? CpuMode::kCompat32 : CpuMode::kCompat16;
  }
  if ((state.regs.rflags & kFlagVm) != 0) return CpuMode::kVirtual8086;
  return s.cs.db != 0 ? CpuMode::kProtected32 : CpuMode::kProtected16;
}

const char* cpu_mode_name(CpuMode mode) {
  switch (mode) {
    case CpuMode::kReal: return "real mode";
    case CpuMode::kVirtual8086: return "virtual-8086 mode";
    case CpuMode::kProtected16: return "16-bit protected mode";
    case CpuMode::kProtected32: return "32-bit protected mode";
    case CpuMode::kCompat16: return "16-bit compatibility mode";
    case CpuMode::kCompat32: return "32-bit compatibility mode";
    case CpuMode::kLong64: return "64-bit mode";
  }
  return "unknown mode";
}

uint8_t current_privilege_level(const CpuState& state) {
  switch (cpu_mode(state)) {
    case CpuMode::kReal: return 0;
    case CpuMode::kVirtual8086: return 3;
    default: return static_cast<uint8_t>(state.sregs.cs.dpl & 3);
  }
}

uint64_t instruction_pointer_mask(CpuMode mode) {
  switch (mode) {
    case CpuMode::kLong64: return ~0ull;
    case CpuMode::kProtected32:
    case CpuMode::kCompat32: return 0xffff'ffffull;
    default: return 0xffffull;
  }
}

bool is_canonical(uint64_t linear, bool la57) {
  const int bits = la57 ? 57 : 48;
  const auto value = static_cast<int64_t>(linear);
  // Sign-extend from the top implemented bit and compare.
  const int64_t extended = static_cast<int64_t>(linear << (64 - bits)) >> (64 - bits);
  return extended == value;
}

}  // namespace kiln::x86
