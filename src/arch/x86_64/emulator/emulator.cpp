#include "arch/x86_64/emulator/emulator.h"

#include "arch/x86_64/emulator/cpu_mode.h"
#include "arch/x86_64/emulator/decoder.h"
#include "arch/x86_64/emulator/handlers.h"

namespace kiln::x86 {
namespace {

using Handler = emu::Emu<void> (*)(emu::Context&);

Handler handler_for(ZydisMnemonic mnemonic) {
  switch (mnemonic) {
    case ZYDIS_MNEMONIC_INT3: return emu::emulate_int3;
    case ZYDIS_MNEMONIC_FWAIT: return emu::emulate_fwait;
    case ZYDIS_MNEMONIC_CLAC:
    case ZYDIS_MNEMONIC_STAC: return emu::emulate_clac_stac;
    case ZYDIS_MNEMONIC_POPCNT:
    case ZYDIS_MNEMONIC_LZCNT:
    case ZYDIS_MNEMONIC_TZCNT: return emu::emulate_bit_count;
    case ZYDIS_MNEMONIC_CMPXCHG8B:
    case ZYDIS_MNEMONIC_CMPXCHG16B: return emu::emulate_cmpxchg_wide;
    case ZYDIS_MNEMONIC_XGETBV: return emu::emulate_xgetbv;
    case ZYDIS_MNEMONIC_RDPID: return emu::emulate_rdpid;
    default: return nullptr;
  }
}

// The instruction completed: move past it. RF is cleared after every
// completed instruction (SDM vol. 3 §18.3.1.1).
void complete(CpuState& state, CpuState& work, uint64_t next_rip) {
  work.regs.rip = next_rip;
  work.regs.rflags &= ~kFlagRf;
  state = work;
}

}  // namespace

Result<EmulationResult> emulate_instruction(std::span<const uint8_t> bytes, CpuState& state,
                                            const GuestMemory& mem) {
  const CpuMode mode = cpu_mode(state);
  const uint64_t rip = state.regs.rip;
  auto decoded = emu::decode_instruction(bytes, mode, state.sregs.ss.db != 0, rip);
  if (!decoded) {
    if (const auto* e = std::get_if<emu::Exception>(&decoded.error())) {
      return EmulationResult{"(invalid lock prefix)", e->injection, false, false};
    }
    return tl::unexpected(std::get<Error>(std::move(decoded).error()));
  }
  const auto& insn = decoded->insn;
  const auto insn_bytes = bytes.first(insn.length);
  const auto describe = [&] {
    return fmt::format("\"{}\" (bytes {}) at rip {:#x} in {}", decoded->text(rip), emu::hex_bytes(insn_bytes), rip,
                       cpu_mode_name(mode));
  };

  const Handler handler = handler_for(insn.mnemonic);
  if (handler == nullptr) return fail("kiln cannot emulate {} {}", decoded->mnemonic(), describe());

  const uint64_t next_rip = (rip + insn.length) & instruction_pointer_mask(mode);
  CpuState work = state;
  emu::Context ctx{work, mem, *decoded, mode, next_rip};
  EmulationResult result{decoded->mnemonic(), std::nullopt, false, false};
  auto done = handler(ctx);
  if (done) {
    complete(state, work, next_rip);
    result.regs_changed = true;
    return result;
  }
  if (auto* error = std::get_if<Error>(&done.error())) return wrap(fmt::format("emulating {}", describe()), *error);

  const auto& exception = std::get<emu::Exception>(done.error());
  result.inject = exception.injection;
  if (exception.trap) {
    complete(state, work, next_rip);
    result.regs_changed = true;
  } else if (exception.cr2) {
    state.sregs.cr2 = *exception.cr2;
    result.sregs_changed = true;
  }
  return result;
}

}  // namespace kiln::x86
