// Shared fixtures for the x86 emulator tests: guest RAM, hand-built page
// tables and register states for 64-bit and 32-bit protected mode.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <vector>

#include "arch/x86_64/emulator/emulator.h"

namespace kiln::x86::test {

inline constexpr uint64_t kP = 1ull << 0;
inline constexpr uint64_t kRw = 1ull << 1;
inline constexpr uint64_t kUs = 1ull << 2;
inline constexpr uint64_t kA = 1ull << 5;
inline constexpr uint64_t kD = 1ull << 6;
inline constexpr uint64_t kPs = 1ull << 7;
inline constexpr uint64_t kXd = 1ull << 63;

// 64 MiB of guest RAM at guest physical 0.
inline GuestMemory make_memory(uint64_t size = 64 * MiB) {
  const std::array ranges{MemoryRange{GuestAddress(0), size}};
  auto mem = GuestMemory::create(ranges);
  EXPECT_TRUE(mem.has_value());
  return std::move(*mem);
}

// Builds 4- or 5-level page tables in guest memory, allocating zeroed tables
// upwards from `table_area`.
class PageTableBuilder {
 public:
  PageTableBuilder(const GuestMemory& mem, uint64_t table_area, int levels = 4)
      : mem_(mem), next_(table_area), levels_(levels), root_(alloc()) {}

  [[nodiscard]] uint64_t root() const { return root_; }

  // Maps one page of `size` (4 KiB, 2 MiB or 1 GiB) at `linear` to `phys`.
  // Intermediate entries get `table_flags`. Returns the guest physical
  // address of the leaf entry.
  uint64_t map(uint64_t linear, uint64_t phys, uint64_t size, uint64_t leaf_flags,
               uint64_t table_flags = kP | kRw | kUs) {
    const int leaf_level = size == 4 * KiB ? 1 : size == 2 * MiB ? 2 : 3;
    uint64_t table = root_;
    for (int level = levels_; level > leaf_level; --level) {
      const uint64_t entry_gpa = table + index(linear, level) * 8;
      auto entry = mem_.read_obj<uint64_t>(GuestAddress(entry_gpa));
      EXPECT_TRUE(entry.has_value());
      if ((*entry & kP) == 0) {
        *entry = alloc() | table_flags;
        EXPECT_TRUE(mem_.write_obj(GuestAddress(entry_gpa), *entry));
      }
      table = *entry & 0x000f'ffff'ffff'f000ull;
    }
    const uint64_t leaf_gpa = table + index(linear, leaf_level) * 8;
    EXPECT_TRUE(mem_.write_obj(GuestAddress(leaf_gpa), phys | leaf_flags | (leaf_level > 1 ? kPs : 0)));
    return leaf_gpa;
  }

 private:
  static uint64_t index(uint64_t linear, int level) { return (linear >> (12 + 9 * (level - 1))) & 0x1ff; }
  uint64_t alloc() {
    const uint64_t table = next_;
    next_ += 4 * KiB;
    EXPECT_TRUE(mem_.fill(GuestAddress(table), 4 * KiB, 0));
    return table;
  }

  const GuestMemory& mem_;
  uint64_t next_;
  int levels_;
  uint64_t root_;
};

inline kvm_segment flat_segment(uint8_t type, bool code64, uint8_t dpl = 0) {
  kvm_segment s{};
  s.base = 0;
  s.limit = 0xffff'ffff;
  s.type = type;
  s.present = 1;
  s.dpl = dpl;
  s.db = code64 ? 0 : 1;
  s.s = 1;
  s.l = code64 ? 1 : 0;
  s.g = 1;
  return s;
}

// 64-bit kernel mode: CR0.PE|WP|PG, CR4.PAE, EFER.LME|LMA|NXE, flat segments.
inline CpuState long_mode_state(uint64_t cr3) {
  CpuState s;
  s.regs.rflags = 0x2;
  s.sregs.cs = flat_segment(0xb, true);
  s.sregs.ds = s.sregs.es = s.sregs.ss = s.sregs.fs = s.sregs.gs = flat_segment(0x3, false);
  s.sregs.cr0 = kCr0ProtectionEnable | kCr0WriteProtect | kCr0Paging | (1ull << 4) | (1ull << 5);
  s.sregs.cr3 = cr3;
  s.sregs.cr4 = kCr4PhysAddrExt;
  s.sregs.efer = (1ull << 8) | kEferLongActive | kEferNoExecute;
  return s;
}

// 32-bit protected mode without paging: CS.D = 1, CS.L = 0, flat segments.
inline CpuState protected32_state() {
  CpuState s;
  s.regs.rflags = 0x2;
  s.sregs.cs = flat_segment(0xb, false);
  s.sregs.ds = s.sregs.es = s.sregs.ss = s.sregs.fs = s.sregs.gs = flat_segment(0x3, false);
  s.sregs.cr0 = kCr0ProtectionEnable | (1ull << 4);
  return s;
}

inline Result<EmulationResult> emulate(std::vector<uint8_t> bytes, CpuState& state, const GuestMemory& mem) {
  return emulate_instruction(bytes, state, mem);
}

}  // namespace kiln::x86::test
