#include "arch/x86_64/emulator/memory_access.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <vector>

#include "arch/x86_64/emulator/decoder.h"
#include "arch/x86_64/emulator/registers.h"

namespace kiln::x86::emu {
namespace {

constexpr uint64_t kPageSize = 4096;

const kvm_segment* segment_of(const kvm_sregs& s, ZydisRegister reg) {
  switch (reg) {
    case ZYDIS_REGISTER_ES: return &s.es;
    case ZYDIS_REGISTER_CS: return &s.cs;
    case ZYDIS_REGISTER_SS: return &s.ss;
    case ZYDIS_REGISTER_DS: return &s.ds;
    case ZYDIS_REGISTER_FS: return &s.fs;
    case ZYDIS_REGISTER_GS: return &s.gs;
    default: return nullptr;
  }
}

// Faults through SS are #SS(0), all others #GP(0) (SDM vol. 3 §6.15).
Exception segment_fault(ZydisRegister reg) {
  return reg == ZYDIS_REGISTER_SS ? stack_fault(0) : general_protection(0);
}

// Null/not-present segment, type and limit checks for [offset, offset+size)
// outside 64-bit mode (SDM vol. 3 §5.3, §5.4; type bits table 3-1).
bool segment_allows(const Context& ctx, const kvm_segment& seg, uint64_t offset, uint64_t size, AccessKind access) {
  const bool protected_mode = ctx.mode != CpuMode::kReal && ctx.mode != CpuMode::kVirtual8086;
  if (protected_mode) {
    if (seg.unusable != 0 || seg.present == 0) return false;
    const bool code = (seg.type & 0x8) != 0;
    const bool readable_or_writable = (seg.type & 0x2) != 0;  // R for code, W for data
    if (access == AccessKind::kWrite && (code || !readable_or_writable)) return false;
    if (access == AccessKind::kRead && code && !readable_or_writable) return false;
  }
  const uint64_t last = offset + size - 1;  // offset < 2^32, size <= 16: no wrap
  const bool expand_down = protected_mode && (seg.type & 0xc) == 0x4;
  if (expand_down) {
    const uint64_t upper = seg.db != 0 ? 0xffff'ffffull : 0xffffull;
    return offset > seg.limit && last <= upper;
  }
  return last <= seg.limit;
}

uint64_t linear_mask(CpuMode mode) { return mode == CpuMode::kLong64 ? ~0ull : 0xffff'ffffull; }

}  // namespace

Emu<uint64_t> operand_linear_address(const Context& ctx, const ZydisDecodedOperand& op, AccessKind access) {
  if (op.type != ZYDIS_OPERAND_TYPE_MEMORY) return fail("operand is not a memory operand");
  uint64_t offset = 0;
  if (op.mem.base != ZYDIS_REGISTER_NONE) {
    auto base = read_register(ctx, op.mem.base);
    if (!base) return stop(base.error());
    offset += *base;
  }
  if (op.mem.index != ZYDIS_REGISTER_NONE) {
    auto index = read_register(ctx, op.mem.index);
    if (!index) return stop(index.error());
    offset += *index * op.mem.scale;
  }
  if (op.mem.disp.has_displacement) offset += static_cast<uint64_t>(op.mem.disp.value);
  offset &= width_mask(ctx.insn.insn.address_width);

  const kvm_segment* seg = segment_of(ctx.state.sregs, op.mem.segment);
  if (seg == nullptr) return fail("memory operand with segment {}", ZydisRegisterGetString(op.mem.segment));
  const uint64_t size = std::max<uint64_t>(op.size / 8, 1);

  if (ctx.mode == CpuMode::kLong64) {
    // Only FS and GS have a base in 64-bit mode (SDM vol. 1 §3.3.7, vol. 3 §3.2.4).
    const bool has_base = op.mem.segment == ZYDIS_REGISTER_FS || op.mem.segment == ZYDIS_REGISTER_GS;
    const uint64_t linear = (has_base ? seg->base : 0) + offset;
    const bool la57 = (ctx.state.sregs.cr4 & kCr4La57) != 0;
    if (!is_canonical(linear, la57) || !is_canonical(linear + size - 1, la57)) {
      return raise(segment_fault(op.mem.segment));
    }
    return linear;
  }
  if (!segment_allows(ctx, *seg, offset, size, access)) return raise(segment_fault(op.mem.segment));
  return (seg->base + offset) & 0xffff'ffffull;
}

Emu<std::span<uint8_t>> map_linear(const Context& ctx, uint64_t linear, uint64_t len, AccessKind access) {
  if ((linear % kPageSize) + len > kPageSize) {
    return fail("internal: access {:#x}+{} crosses a page boundary", linear, len);
  }
  auto walk = translate(ctx.state, linear, access, ctx.mem);
  if (!walk) return stop(walk.error());
  if (const auto* pf = std::get_if<PageFault>(&*walk)) return raise(page_fault(*pf));
  const GuestAddress gpa = std::get<Translation>(*walk).gpa;
  auto host = ctx.mem.slice(gpa, len);
  if (!host) {
    return fail("guest physical {:#x} (linear {:#x}, {} bytes) is not RAM; MMIO operands are not emulated", gpa.raw(),
                linear, len);
  }
  return *host;
}

Emu<void> read_linear(const Context& ctx, uint64_t linear, std::span<uint8_t> out) {
  uint64_t done = 0;
  while (done < out.size()) {
    const uint64_t addr = (linear + done) & linear_mask(ctx.mode);
    const uint64_t chunk = std::min<uint64_t>(out.size() - done, kPageSize - addr % kPageSize);
    auto host = KILN_TRY_VALUE(map_linear(ctx, addr, chunk, AccessKind::kRead));
    std::memcpy(out.data() + done, host.data(), chunk);
    done += chunk;
  }
  return {};
}

Emu<void> write_linear(const Context& ctx, uint64_t linear, std::span<const uint8_t> in) {
  std::vector<std::span<uint8_t>> pieces;
  uint64_t done = 0;
  while (done < in.size()) {
    const uint64_t addr = (linear + done) & linear_mask(ctx.mode);
    const uint64_t chunk = std::min<uint64_t>(in.size() - done, kPageSize - addr % kPageSize);
    pieces.push_back(KILN_TRY_VALUE(map_linear(ctx, addr, chunk, AccessKind::kWrite)));
    done += chunk;
  }
  done = 0;
  for (const auto& piece : pieces) {
    std::memcpy(piece.data(), in.data() + done, piece.size());
    done += piece.size();
  }
  return {};
}

Emu<uint64_t> read_source(const Context& ctx, const ZydisDecodedOperand& op) {
  if (op.type == ZYDIS_OPERAND_TYPE_REGISTER) {
    auto value = read_register(ctx, op.reg.value);
    if (!value) return stop(value.error());
    return *value;
  }
  if (op.type != ZYDIS_OPERAND_TYPE_MEMORY || op.size == 0 || op.size > 64) {
    return fail("unsupported source operand (type {}, {} bits)", static_cast<int>(op.type), op.size);
  }
  auto linear = KILN_TRY_VALUE(operand_linear_address(ctx, op, AccessKind::kRead));
  uint64_t value = 0;  // little-endian host: the low op.size/8 bytes
  KILN_TRY(read_linear(ctx, linear, std::span(reinterpret_cast<uint8_t*>(&value), op.size / 8)));
  return value;
}

}  // namespace kiln::x86::emu
