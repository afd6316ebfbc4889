// Memory operands: effective address -> linear address (segmentation,
// SDM vol. 3 §3.4, §5.3; 64-bit rules vol. 1 §3.3.7) -> guest physical (page
// walk) -> checked host bytes through GuestMemory.
#pragma once

#include <Zydis/Zydis.h>

#include <cstdint>
#include <span>

#include "arch/x86_64/emulator/emulation_types.h"

namespace kiln::x86::emu {

// Linear address of memory operand `op` (op.size / 8 bytes): base + index *
// scale + displacement (RIP-relative from the next instruction) truncated to
// the address size, plus the segment base (only FS/GS in 64-bit mode).
// Raises #GP(0) / #SS(0) for a non-canonical address (64-bit mode) or a
// segment limit, type or null-segment violation (other protected modes).
[[nodiscard]] Emu<uint64_t> operand_linear_address(const Context& ctx, const ZydisDecodedOperand& op,
                                                   AccessKind access);

// Host bytes for [linear, linear + len), which must lie in one 4 KiB page:
// for atomic read-modify-write on guest memory. Raises #PF; guest physical
// memory outside RAM (MMIO) is an error.
[[nodiscard]] Emu<std::span<uint8_t>> map_linear(const Context& ctx, uint64_t linear, uint64_t len,
                                                 AccessKind access);

// Copies guest memory at `linear` (any length, may cross pages).
[[nodiscard]] Emu<void> read_linear(const Context& ctx, uint64_t linear, std::span<uint8_t> out);
// Writes guest memory at `linear`; every page is translated (and may fault)
// before any byte is written.
[[nodiscard]] Emu<void> write_linear(const Context& ctx, uint64_t linear, std::span<const uint8_t> in);

// Value of a register or memory source operand of up to 64 bits, zero-extended.
[[nodiscard]] Emu<uint64_t> read_source(const Context& ctx, const ZydisDecodedOperand& op);

}  // namespace kiln::x86::emu
