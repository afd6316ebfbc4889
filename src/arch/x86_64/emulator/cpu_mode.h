// The processor mode implied by a vCPU's control and segment registers
// (Intel SDM vol. 3 §2.2 "Modes of operation", §5.2 for the CS.L / CS.D
// code-segment attributes in IA-32e mode).
#pragma once

#include <cstdint>

#include "arch/x86_64/emulator/state.h"

namespace kiln::x86 {

enum class CpuMode : uint8_t {
  kReal,          // CR0.PE = 0
  kVirtual8086,   // CR0.PE = 1, RFLAGS.VM = 1
  kProtected16,   // legacy protected mode, CS.D = 0
  kProtected32,   // legacy protected mode, CS.D = 1
  kCompat16,      // EFER.LMA = 1, CS.L = 0, CS.D = 0
  kCompat32,      // EFER.LMA = 1, CS.L = 0, CS.D = 1
  kLong64,        // EFER.LMA = 1, CS.L = 1
};

[[nodiscard]] CpuMode cpu_mode(const CpuState& state);
[[nodiscard]] const char* cpu_mode_name(CpuMode mode);

// Current privilege level: 0 in real mode, 3 in virtual-8086 mode, else CS.DPL.
[[nodiscard]] uint8_t current_privilege_level(const CpuState& state);

// Width of the instruction pointer: RIP in 64-bit mode, EIP or IP otherwise.
[[nodiscard]] uint64_t instruction_pointer_mask(CpuMode mode);

// Canonical linear address: bits 63..47 (or 63..56 with CR4.LA57) all equal
// (SDM vol. 1 §3.3.7.1).
[[nodiscard]] bool is_canonical(uint64_t linear, bool la57);

}  // namespace kiln::x86
