// cmpxchg8b / cmpxchg16b (SDM vol. 2A "CMPXCHG8B/CMPXCHG16B"): compare
// EDX:EAX (RDX:RAX) with the memory operand; equal: store ECX:EBX (RCX:RBX),
// ZF = 1; different: load the operand into EDX:EAX (RDX:RAX), ZF = 0. The
// destination is always written (the old value on failure), so the access
// is a write for paging purposes. Only ZF changes.
#include "arch/x86_64/emulator/decoder.h"
#include "arch/x86_64/emulator/handlers.h"
#include "arch/x86_64/emulator/memory_access.h"
#include "arch/x86_64/emulator/registers.h"

namespace kiln::x86::emu {
namespace {

struct alignas(16) Octword {
  uint64_t lo;
  uint64_t hi;
};

// The guest's lock cmpxchg16b on the host mapping of its page: atomic against
// the other vCPUs. `lo`/`hi` hold the expected value and receive the old one.
bool host_cmpxchg16b(uint8_t* target, uint64_t& lo, uint64_t& hi, uint64_t new_lo, uint64_t new_hi) {
  bool equal = false;
  auto* octword = reinterpret_cast<Octword*>(target);
  asm volatile("lock cmpxchg16b %[mem]"
               : "=@ccz"(equal), [mem] "+m"(*octword), "+a"(lo), "+d"(hi)
               : "b"(new_lo), "c"(new_hi)
               : "memory");
  return equal;
}

bool host_cmpxchg8b(uint8_t* target, uint64_t& expected, uint64_t desired) {
  return __atomic_compare_exchange_n(reinterpret_cast<uint64_t*>(target), &expected, desired, false,
                                     __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

}  // namespace

Emu<void> emulate_cmpxchg_wide(Context& ctx) {
  const bool wide = ctx.insn.insn.mnemonic == ZYDIS_MNEMONIC_CMPXCHG16B;
  const uint64_t size = wide ? 16 : 8;
  const auto& op = ctx.insn.operands[0];
  if (op.type != ZYDIS_OPERAND_TYPE_MEMORY || op.size != size * 8) {
    return fail("{}: unexpected operand layout", ctx.insn.mnemonic());
  }
  auto linear = KILN_TRY_VALUE(operand_linear_address(ctx, op, AccessKind::kWrite));
  // cmpxchg16b: #GP(0) if the operand is not 16-byte aligned.
  if (wide && linear % 16 != 0) return raise(general_protection(0));

  auto& regs = ctx.state.regs;
  const uint64_t half = wide ? ~0ull : 0xffff'ffffull;
  uint64_t old_lo = regs.rax & half;
  uint64_t old_hi = regs.rdx & half;
  const uint64_t new_lo = regs.rbx & half;
  const uint64_t new_hi = regs.rcx & half;
  bool equal = false;
  if (linear % size == 0) {
    auto host = KILN_TRY_VALUE(map_linear(ctx, linear, size, AccessKind::kWrite));
    if (wide) {
      equal = host_cmpxchg16b(host.data(), old_lo, old_hi, new_lo, new_hi);
    } else {
      uint64_t expected = (old_hi << 32) | old_lo;
      equal = host_cmpxchg8b(host.data(), expected, (new_hi << 32) | new_lo);
      old_lo = expected & half;
      old_hi = expected >> 32;
    }
  } else {
    // A misaligned cmpxchg8b (a split lock on real hardware): emulated as a
    // plain read-compare-write, not atomic against other vCPUs.
    uint64_t current = 0;
    KILN_TRY(read_linear(ctx, linear, std::span(reinterpret_cast<uint8_t*>(&current), 8)));
    equal = current == ((old_hi << 32) | old_lo);
    const uint64_t stored = equal ? ((new_hi << 32) | new_lo) : current;
    KILN_TRY(write_linear(ctx, linear, std::span(reinterpret_cast<const uint8_t*>(&stored), 8)));
    old_lo = current & half;
    old_hi = current >> 32;
  }
  update_flags(ctx.state, kFlagZf, equal ? kFlagZf : 0);
  if (!equal) {
    // Writing EAX/EDX zero-extends into RAX/RDX, as any 32-bit result does.
    KILN_TRY(write_register(ctx.state, wide ? ZYDIS_REGISTER_RAX : ZYDIS_REGISTER_EAX, old_lo));
    KILN_TRY(write_register(ctx.state, wide ? ZYDIS_REGISTER_RDX : ZYDIS_REGISTER_EDX, old_hi));
  }
  return {};
}

}  // namespace kiln::x86::emu
