// Zydis wrapper: decodes one instruction in the mode of the vCPU and
// describes it for error messages. Internal to the emulator.
#pragma once

#include <Zydis/Zydis.h>

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "arch/x86_64/emulator/emulation_types.h"

namespace kiln::x86::emu {

struct DecodedInstruction {
  ZydisDecodedInstruction insn{};
  std::array<ZydisDecodedOperand, ZYDIS_MAX_OPERAND_COUNT> operands{};

  [[nodiscard]] const char* mnemonic() const { return ZydisMnemonicGetString(insn.mnemonic); }
  [[nodiscard]] std::span<const ZydisDecodedOperand> all_operands() const {
    return std::span(operands.data(), insn.operand_count);
  }
  // Intel-syntax text, e.g. "lock cmpxchg16b [rsi]"; RIP-relative targets resolved against `rip`.
  [[nodiscard]] std::string text(uint64_t rip) const;
};

// Decodes the first instruction of `bytes` (fetched at `rip`) in `mode`.
// Truncated or undecodable bytes are errors naming the bytes; an illegal LOCK
// prefix raises #UD, as the CPU does.
[[nodiscard]] Emu<DecodedInstruction> decode_instruction(std::span<const uint8_t> bytes, CpuMode mode,
                                                         bool stack_32bit, uint64_t rip);

// "f0 48 0f c7 0e"
[[nodiscard]] std::string hex_bytes(std::span<const uint8_t> bytes);

}  // namespace kiln::x86::emu
