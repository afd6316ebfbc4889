// Internal vocabulary of the emulator: how an instruction's emulation stops
// early (a kiln error, or an exception the guest must see) and the context
// every instruction handler works on.
#pragma once

#include <cstdint>
#include <optional>
#include <tl/expected.hpp>
#include <variant>

#include "arch/x86_64/emulator/cpu_mode.h"
#include "arch/x86_64/emulator/page_walk.h"
#include "arch/x86_64/emulator/state.h"
#include "common/result.h"
#include "memory/guest_memory.h"

namespace kiln::x86::emu {

// A guest-visible exception. Faults leave the registers as they were before
// the instruction; a trap (#BP) completes the instruction first (SDM vol. 3 §6.5).
struct Exception {
  Injection injection;
  std::optional<uint64_t> cr2;  // #PF only
  bool trap = false;
};

using Stop = std::variant<Error, Exception>;
template <typename T = void>
using Emu = tl::expected<T, Stop>;

[[nodiscard]] inline tl::unexpected<Stop> raise(Exception e) { return tl::unexpected(Stop(std::move(e))); }
[[nodiscard]] inline tl::unexpected<Stop> stop(Error e) { return tl::unexpected(Stop(std::move(e))); }

[[nodiscard]] inline Exception invalid_opcode() { return {Injection{kVectorInvalidOpcode, false, 0}, {}, false}; }
[[nodiscard]] inline Exception general_protection(uint32_t code = 0) {
  return {Injection{kVectorGeneralProt, true, code}, {}, false};
}
[[nodiscard]] inline Exception stack_fault(uint32_t code = 0) {
  return {Injection{kVectorStackFault, true, code}, {}, false};
}
[[nodiscard]] inline Exception page_fault(const PageFault& pf) {
  return {Injection{kVectorPageFault, true, pf.error_code}, pf.address, false};
}

struct DecodedInstruction;

// What one instruction handler works on. `state` is a scratch copy that is
// committed only when the instruction completes.
struct Context {
  CpuState& state;
  const GuestMemory& mem;
  const DecodedInstruction& insn;
  CpuMode mode;
  uint64_t next_rip;  // RIP of the following instruction (RIP-relative base)
};

}  // namespace kiln::x86::emu
