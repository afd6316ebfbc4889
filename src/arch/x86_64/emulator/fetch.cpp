// Instruction fetch at CS:RIP for exits without instruction bytes.
#include <algorithm>

#include "arch/x86_64/emulator/cpu_mode.h"
#include "arch/x86_64/emulator/emulator.h"

namespace kiln::x86 {

Result<std::vector<uint8_t>> fetch_instruction(const CpuState& state, const GuestMemory& mem) {
  constexpr size_t kMaxInstruction = 15;  // SDM vol. 2 §2.3.11
  constexpr uint64_t kPageSize = 4096;
  const CpuMode mode = cpu_mode(state);
  const uint64_t ip = state.regs.rip & instruction_pointer_mask(mode);
  const bool long64 = mode == CpuMode::kLong64;
  const uint64_t start = long64 ? ip : (state.sregs.cs.base + ip) & 0xffff'ffffull;

  std::vector<uint8_t> out;
  while (out.size() < kMaxInstruction) {
    const uint64_t linear = long64 ? start + out.size() : (start + out.size()) & 0xffff'ffffull;
    const uint64_t chunk = std::min<uint64_t>(kMaxInstruction - out.size(), kPageSize - linear % kPageSize);
    auto walk = translate(state, linear, AccessKind::kFetch, mem);
    if (!walk) {
      if (out.empty()) return wrap(fmt::format("fetching the instruction at rip {:#x}", state.regs.rip), walk.error());
      break;
    }
    if (const auto* pf = std::get_if<PageFault>(&*walk)) {
      if (out.empty()) {
        return fail("fetching the instruction at rip {:#x}: page fault at {:#x} (error code {:#x})", state.regs.rip,
                    pf->address, pf->error_code);
      }
      break;
    }
    auto host = mem.slice(std::get<Translation>(*walk).gpa, chunk);
    if (!host) {
      if (out.empty()) return wrap(fmt::format("fetching the instruction at rip {:#x}", state.regs.rip), host.error());
      break;
    }
    out.insert(out.end(), host->begin(), host->end());
  }
  return out;
}

}  // namespace kiln::x86
