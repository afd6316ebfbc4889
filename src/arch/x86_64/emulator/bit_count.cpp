// popcnt, lzcnt and tzcnt (SDM vol. 2B "POPCNT", vol. 2A "LZCNT", "TZCNT").
#include <bit>

#include "arch/x86_64/emulator/decoder.h"
#include "arch/x86_64/emulator/handlers.h"
#include "arch/x86_64/emulator/memory_access.h"
#include "arch/x86_64/emulator/registers.h"

namespace kiln::x86::emu {

Emu<void> emulate_bit_count(Context& ctx) {
  const auto ops = ctx.insn.all_operands();
  if (ops.size() < 2 || ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER) {
    return fail("{}: unexpected operand layout", ctx.insn.mnemonic());
  }
  const ZydisRegister dest = ops[0].reg.value;
  const unsigned width = gpr_width(dest);  // 16, 32 or 64
  if (width < 16) return fail("{}: unexpected destination {}", ctx.insn.mnemonic(), ZydisRegisterGetString(dest));

  auto source = KILN_TRY_VALUE(read_source(ctx, ops[1]));
  const uint64_t value = source & width_mask(width);

  uint64_t result = 0;
  uint64_t flags_mask = 0;
  uint64_t flags = 0;
  switch (ctx.insn.insn.mnemonic) {
    case ZYDIS_MNEMONIC_POPCNT:
      // ZF = (source == 0); OF, SF, AF, CF, PF cleared.
      result = static_cast<uint64_t>(std::popcount(value));
      flags_mask = kFlagsArithmetic;
      flags = value == 0 ? kFlagZf : 0;
      break;
    case ZYDIS_MNEMONIC_LZCNT:
    case ZYDIS_MNEMONIC_TZCNT:
      // The operand width when the source is 0 (CF = 1); ZF = (result == 0);
      // OF, SF, PF, AF undefined: left unchanged here.
      if (value == 0) {
        result = width;
      } else if (ctx.insn.insn.mnemonic == ZYDIS_MNEMONIC_LZCNT) {
        result = static_cast<uint64_t>(std::countl_zero(value)) - (64 - width);
      } else {
        result = static_cast<uint64_t>(std::countr_zero(value));
      }
      flags_mask = kFlagCf | kFlagZf;
      flags = (value == 0 ? kFlagCf : 0) | (result == 0 ? kFlagZf : 0);
      break;
    default: return fail("{} is not a bit-count instruction", ctx.insn.mnemonic());
  }
  KILN_TRY(write_register(ctx.state, dest, result));
  update_flags(ctx.state, flags_mask, flags);
  return {};
}

}  // namespace kiln::x86::emu
