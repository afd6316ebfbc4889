// General-purpose register access by Zydis register id on a kvm_regs copy
// (SDM vol. 1 §3.4.1.1: 32-bit results zero-extend, 8/16-bit results merge).
#pragma once

#include <Zydis/Zydis.h>

#include <cstdint>

#include "arch/x86_64/emulator/emulation_types.h"

namespace kiln::x86::emu {

// Width in bits of a general-purpose register, or 0 for any other register.
[[nodiscard]] unsigned gpr_width(ZydisRegister reg);

// Value of a GPR (zero-extended from its width) or of RIP/EIP/IP, which read
// as the address of the next instruction. Other registers are an error.
[[nodiscard]] Result<uint64_t> read_register(const Context& ctx, ZydisRegister reg);

// Writes a GPR of any width; other registers are an error.
[[nodiscard]] Status write_register(CpuState& state, ZydisRegister reg, uint64_t value);

// RFLAGS = (RFLAGS & ~mask) | (values & mask).
void update_flags(CpuState& state, uint64_t mask, uint64_t values);

// All-ones in the low `bits` bits (bits = 8, 16, 32 or 64).
[[nodiscard]] constexpr uint64_t width_mask(unsigned bits) { return bits >= 64 ? ~0ull : (1ull << bits) - 1; }

}  // namespace kiln::x86::emu
