#include "arch/x86_64/emulator/decoder.h"

#include <fmt/format.h>

namespace kiln::x86::emu {
namespace {

ZydisMachineMode machine_mode(CpuMode mode) {
  switch (mode) {
    case CpuMode::kLong64: return ZYDIS_MACHINE_MODE_LONG_64;
    case CpuMode::kCompat32: return ZYDIS_MACHINE_MODE_LONG_COMPAT_32;
    case CpuMode::kCompat16: return ZYDIS_MACHINE_MODE_LONG_COMPAT_16;
    case CpuMode::kProtected32: return ZYDIS_MACHINE_MODE_LEGACY_32;
    case CpuMode::kProtected16: return ZYDIS_MACHINE_MODE_LEGACY_16;
    case CpuMode::kReal:
    case CpuMode::kVirtual8086: return ZYDIS_MACHINE_MODE_REAL_16;
  }
  return ZYDIS_MACHINE_MODE_LONG_64;
}

ZydisStackWidth stack_width(CpuMode mode, bool stack_32bit) {
  if (mode == CpuMode::kLong64) return ZYDIS_STACK_WIDTH_64;
  return stack_32bit ? ZYDIS_STACK_WIDTH_32 : ZYDIS_STACK_WIDTH_16;
}

}  // namespace

std::string hex_bytes(std::span<const uint8_t> bytes) {
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i != 0) out += ' ';
    out += fmt::format("{:02x}", bytes[i]);
  }
  return out;
}

std::string DecodedInstruction::text(uint64_t rip) const {
  ZydisFormatter formatter;
  if (!ZYAN_SUCCESS(ZydisFormatterInit(&formatter, ZYDIS_FORMATTER_STYLE_INTEL))) return mnemonic();
  std::array<char, 256> buffer{};
  if (!ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&formatter, &insn, operands.data(), insn.operand_count_visible,
                                                    buffer.data(), buffer.size(), rip, nullptr))) {
    return mnemonic();
  }
  return std::string(buffer.data());
}

Emu<DecodedInstruction> decode_instruction(std::span<const uint8_t> bytes, CpuMode mode, bool stack_32bit,
                                           uint64_t rip) {
  if (bytes.empty()) return fail("no instruction bytes for rip {:#x}", rip);
  ZydisDecoder decoder;
  if (!ZYAN_SUCCESS(ZydisDecoderInit(&decoder, machine_mode(mode), stack_width(mode, stack_32bit)))) {
    return fail("cannot initialise the Zydis decoder for {}", cpu_mode_name(mode));
  }
  DecodedInstruction out;
  const ZyanStatus status =
      ZydisDecoderDecodeFull(&decoder, bytes.data(), bytes.size(), &out.insn, out.operands.data());
  if (ZYAN_SUCCESS(status)) return out;
  if (status == ZYDIS_STATUS_NO_MORE_DATA) {
    return fail("truncated instruction at rip {:#x}: bytes [{}] end before the instruction does", rip,
                hex_bytes(bytes));
  }
  // LOCK on an instruction that does not take it is #UD (SDM vol. 2 "LOCK").
  if (status == ZYDIS_STATUS_ILLEGAL_LOCK) return raise(invalid_opcode());
  return fail("undecodable instruction at rip {:#x} in {}: bytes [{}] (Zydis status {:#x})", rip,
              cpu_mode_name(mode), hex_bytes(bytes), static_cast<uint32_t>(status));
}

}  // namespace kiln::x86::emu
