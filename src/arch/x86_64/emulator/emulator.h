// User-space emulation of the few instructions KVM's in-kernel emulator
// cannot handle (KVM_EXIT_INTERNAL_ERROR / KVM_INTERNAL_ERROR_EMULATION, see
// the KVM API docs "KVM_CAP_EXIT_ON_EMULATION_FAILURE"). Pure: works on copies
// of the vCPU registers and on GuestMemory; the vCPU loop does the ioctls.
//
// Emulated: int3, fwait, clac, stac, popcnt, lzcnt, tzcnt, cmpxchg8b,
// cmpxchg16b, xgetbv, rdpid. Anything else is an error naming the
// instruction, its bytes and RIP.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "arch/x86_64/emulator/page_walk.h"
#include "arch/x86_64/emulator/state.h"
#include "common/result.h"
#include "memory/guest_memory.h"

namespace kiln::x86 {

struct EmulationResult {
  std::string mnemonic;             // Zydis mnemonic, e.g. "popcnt", "cmpxchg16b"
  std::optional<Injection> inject;  // exception to inject with KVM_SET_VCPU_EVENTS
  bool regs_changed = false;        // state.regs was updated (RIP advanced): KVM_SET_REGS
  bool sregs_changed = false;       // state.sregs.cr2 was set for #PF: KVM_SET_SREGS
};

// Decodes the instruction at the start of `bytes` (fetched at state.regs.rip;
// extra trailing bytes are ignored) in the mode given by CR0.PE, EFER.LMA,
// CS.L, CS.D and RFLAGS.VM, and emulates it on `state` and `mem`.
//   - completed: registers updated, RIP advanced, RFLAGS.RF cleared;
//   - trap (int3): as completed, plus inject = #BP;
//   - fault (#UD, #GP, #SS, #NM, #PF): registers untouched, inject set, and
//     for #PF state.sregs.cr2 = the faulting linear address.
// Errors (the VM should stop): unknown instruction, truncated or undecodable
// bytes, a memory operand outside RAM (MMIO), rdpid without tsc_aux.
[[nodiscard]] Result<EmulationResult> emulate_instruction(std::span<const uint8_t> bytes, CpuState& state,
                                                          const GuestMemory& mem);

// Up to 15 instruction bytes at CS:RIP, read through the guest page tables,
// for exits that carry no instruction bytes (emulation_failure.flags without
// KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES). Stops early at a page
// that does not translate; an error when not even the first byte does.
[[nodiscard]] Result<std::vector<uint8_t>> fetch_instruction(const CpuState& state, const GuestMemory& mem);

}  // namespace kiln::x86
