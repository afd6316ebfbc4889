#include "arch/x86_64/emulator/page_walk.h"

#include <array>

#include "arch/x86_64/emulator/cpu_mode.h"

namespace kiln::x86 {
namespace {

// Paging-structure entry bits (SDM vol. 3 §4.3, §4.4.2, §4.5.4).
constexpr uint64_t kEntryPresent = 1ull << 0;
constexpr uint64_t kEntryWritable = 1ull << 1;
constexpr uint64_t kEntryUser = 1ull << 2;
constexpr uint64_t kEntryAccessed = 1ull << 5;
constexpr uint64_t kEntryDirty = 1ull << 6;
constexpr uint64_t kEntryPageSize = 1ull << 7;
constexpr uint64_t kEntryNoExecute = 1ull << 63;
constexpr uint64_t kEntryAddress = 0x000f'ffff'ffff'f000ull;  // bits 51:12
constexpr uint64_t kPse36Reserved = 1ull << 21;               // 4 MiB PDE bit 21

struct Visited {
  GuestAddress gpa;
  uint64_t value = 0;
  uint8_t size = 0;  // 4 or 8 bytes
};

// The accumulated state of one walk (rights are the AND/OR over all levels,
// SDM vol. 3 §4.6.1).
struct Walk {
  const CpuState& state;
  const GuestMemory& mem;
  uint64_t linear;
  AccessKind access;
  bool user;                     // CPL 3
  bool fetch_flag_defined;       // I/D is reported only with NXE (PAE paging) or SMEP
  bool writable = true;
  bool user_page = true;
  bool no_execute = false;
  std::array<Visited, 5> visited{};
  size_t visited_count = 0;
};

PageFault page_fault(const Walk& w, uint32_t cause) {
  uint32_t code = cause;
  if (w.access == AccessKind::kWrite) code |= kPfErrWrite;
  if (w.user) code |= kPfErrUser;
  if (w.access == AccessKind::kFetch && w.fetch_flag_defined) code |= kPfErrFetch;
  return PageFault{w.linear, code};
}

Result<uint64_t> read_entry(Walk& w, GuestAddress gpa, uint8_t size) {
  auto host = w.mem.slice(gpa, size);
  if (!host) {
    return fail("page table entry at guest physical {:#x} (translating {:#x}) is outside guest RAM", gpa.raw(),
                w.linear);
  }
  // Entries are naturally aligned in the table, and tables are page aligned,
  // so the host pointer is aligned too. Other vCPUs may update entries
  // concurrently, hence the atomic load.
  uint64_t value = 0;
  if (size == 8) {
    value = __atomic_load_n(reinterpret_cast<uint64_t*>(host->data()), __ATOMIC_ACQUIRE);
  } else {
    value = __atomic_load_n(reinterpret_cast<uint32_t*>(host->data()), __ATOMIC_ACQUIRE);
  }
  if (w.visited_count < w.visited.size()) w.visited[w.visited_count++] = Visited{gpa, value, size};
  return value;
}

// Sets `bits` in an entry read during this walk, atomically, if not set yet.
void set_entry_bits(const GuestMemory& mem, const Visited& v, uint64_t bits) {
  if ((v.value & bits) == bits) return;
  auto host = mem.slice(v.gpa, v.size);
  if (!host) return;  // read a moment ago; cannot vanish
  if (v.size == 8) {
    __atomic_fetch_or(reinterpret_cast<uint64_t*>(host->data()), bits, __ATOMIC_ACQ_REL);
  } else {
    __atomic_fetch_or(reinterpret_cast<uint32_t*>(host->data()), static_cast<uint32_t>(bits), __ATOMIC_ACQ_REL);
  }
}

void accumulate(Walk& w, uint64_t entry) {
  w.writable = w.writable && (entry & kEntryWritable) != 0;
  w.user_page = w.user_page && (entry & kEntryUser) != 0;
  w.no_execute = w.no_execute || (entry & kEntryNoExecute) != 0;
}

// Access rights of the whole walk (SDM vol. 3 §4.6) and the A/D updates
// (§4.8) once the leaf is known.
WalkOutcome finish(Walk& w, uint64_t physical, uint64_t page_size) {
  const auto& s = w.state.sregs;
  const bool write = w.access == AccessKind::kWrite;
  const bool fetch = w.access == AccessKind::kFetch;
  if (w.user && !w.user_page) return page_fault(w, kPfErrPresent);
  if (write && !w.writable && (w.user || (s.cr0 & kCr0WriteProtect) != 0)) return page_fault(w, kPfErrPresent);
  if (fetch && w.no_execute) return page_fault(w, kPfErrPresent);
  if (!w.user && w.user_page) {
    if (fetch && (s.cr4 & kCr4Smep) != 0) return page_fault(w, kPfErrPresent);
    const bool ac = (w.state.regs.rflags & kFlagAc) != 0;
    if (!fetch && (s.cr4 & kCr4Smap) != 0 && !ac) return page_fault(w, kPfErrPresent);
  }
  for (size_t i = 0; i < w.visited_count; ++i) {
    const bool leaf = i + 1 == w.visited_count;
    set_entry_bits(w.mem, w.visited[i], kEntryAccessed | (leaf && write ? kEntryDirty : 0));
  }
  return Translation{GuestAddress(physical), page_size};
}

// 8-byte entries from `level` (5 = PML5 ... 1 = PT) down: 4/5-level paging
// and the PD/PT part of PAE paging (SDM vol. 3 §4.4.2, §4.5.4).
Result<WalkOutcome> walk_8byte_levels(Walk& w, uint64_t table, int level) {
  const bool nxe = (w.state.sregs.efer & kEferNoExecute) != 0;
  for (; level >= 1; --level) {
    const int shift = 12 + 9 * (level - 1);
    const auto gpa = GuestAddress(table + ((w.linear >> shift) & 0x1ff) * 8);
    auto entry = KILN_TRY_VALUE(read_entry(w, gpa, 8));
    if ((entry & kEntryPresent) == 0) return page_fault(w, 0);
    if (!nxe && (entry & kEntryNoExecute) != 0) return page_fault(w, kPfErrPresent | kPfErrReserved);
    accumulate(w, entry);
    const bool large = level > 1 && (entry & kEntryPageSize) != 0;
    if (large && level > 3) return page_fault(w, kPfErrPresent | kPfErrReserved);  // PS reserved in PML4E/PML5E
    if (level == 1 || large) {
      const uint64_t page_size = 1ull << shift;
      // Bits 12 (PAT) .. shift-1 of a large-page entry: bit 12 is PAT, the rest reserved.
      const uint64_t reserved = large ? (page_size - 1) & ~0x1fffull : 0;
      if ((entry & reserved) != 0) return page_fault(w, kPfErrPresent | kPfErrReserved);
      const uint64_t base = entry & kEntryAddress & ~(page_size - 1);
      return finish(w, base | (w.linear & (page_size - 1)), page_size);
    }
    table = entry & kEntryAddress;
  }
  return fail("page walk fell through");  // unreachable: level 1 always returns
}

// 32-bit paging: 4-byte entries, optional 4 MiB pages with PSE-36 (SDM vol. 3 §4.3).
Result<WalkOutcome> walk_32bit(Walk& w) {
  const uint64_t linear = w.linear & 0xffff'ffffull;
  const auto pde_gpa = GuestAddress((w.state.sregs.cr3 & 0xffff'f000ull) + ((linear >> 22) & 0x3ff) * 4);
  auto pde = KILN_TRY_VALUE(read_entry(w, pde_gpa, 4));
  if ((pde & kEntryPresent) == 0) return page_fault(w, 0);
  accumulate(w, pde);
  if ((pde & kEntryPageSize) != 0 && (w.state.sregs.cr4 & kCr4PageSizeExt) != 0) {
    if ((pde & kPse36Reserved) != 0) return page_fault(w, kPfErrPresent | kPfErrReserved);
    const uint64_t base = (pde & 0xffc0'0000ull) | (((pde >> 13) & 0xff) << 32);
    return finish(w, base | (linear & 0x3f'ffffull), 4 * MiB);
  }
  const auto pte_gpa = GuestAddress((pde & 0xffff'f000ull) + ((linear >> 12) & 0x3ff) * 4);
  auto pte = KILN_TRY_VALUE(read_entry(w, pte_gpa, 4));
  if ((pte & kEntryPresent) == 0) return page_fault(w, 0);
  accumulate(w, pte);
  return finish(w, (pte & 0xffff'f000ull) | (linear & 0xfff), 4 * KiB);
}

// PAE paging: the PDPTE selected by bits 31:30 (SDM vol. 3 §4.4.1). The CPU
// caches PDPTEs at CR3 load; kiln reads them from memory, which matches as
// long as the guest reloads CR3 after changing them (as it must).
Result<WalkOutcome> walk_pae(Walk& w) {
  const uint64_t linear = w.linear & 0xffff'ffffull;
  const auto gpa = GuestAddress((w.state.sregs.cr3 & 0xffff'ffe0ull) + ((linear >> 30) & 3) * 8);
  auto host = w.mem.slice(gpa, 8);
  if (!host) return fail("PAE PDPTE at guest physical {:#x} is outside guest RAM", gpa.raw());
  const uint64_t pdpte = __atomic_load_n(reinterpret_cast<uint64_t*>(host->data()), __ATOMIC_ACQUIRE);
  if ((pdpte & kEntryPresent) == 0) return page_fault(w, 0);
  return walk_8byte_levels(w, pdpte & kEntryAddress, 2);
}

}  // namespace

Result<WalkOutcome> translate(const CpuState& state, uint64_t linear, AccessKind access, const GuestMemory& mem) {
  const auto& s = state.sregs;
  if ((s.cr0 & kCr0Paging) == 0) return Translation{GuestAddress(linear), 4 * KiB};
  const bool pae = (s.cr4 & kCr4PhysAddrExt) != 0;
  const bool long_mode = (s.efer & kEferLongActive) != 0;
  Walk w{.state = state,
         .mem = mem,
         .linear = linear,
         .access = access,
         .user = current_privilege_level(state) == 3,
         .fetch_flag_defined = (pae && (s.efer & kEferNoExecute) != 0) || (s.cr4 & kCr4Smep) != 0};
  if (!pae) return walk_32bit(w);
  if (!long_mode) return walk_pae(w);
  const bool la57 = (s.cr4 & kCr4La57) != 0;
  return walk_8byte_levels(w, s.cr3 & kEntryAddress, la57 ? 5 : 4);
}

}  // namespace kiln::x86
