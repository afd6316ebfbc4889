// The boot GDT, shared by both entry modes (Intel SDM vol. 3 §3.4.5 segment
// descriptors). Selectors follow Linux: __BOOT_CS 0x10 and __BOOT_DS 0x18 as
// boot.rst's 64-bit protocol requires; a flat 32-bit code segment at 0x08 for
// the PVH entry; a TSS at 0x20 (16 bytes, as long mode reads it).
#pragma once

#include "kvm/uapi.h"

#include <array>
#include <cstdint>

#include "common/result.h"
#include "memory/guest_memory.h"

namespace kiln::x86 {

inline constexpr uint16_t kCode32Selector = 0x08;
inline constexpr uint16_t kCode64Selector = 0x10;
inline constexpr uint16_t kDataSelector = 0x18;
inline constexpr uint16_t kTssSelector = 0x20;
inline constexpr size_t kGdtEntries = 6;  // null, code32, code64, data, TSS (low, high)
inline constexpr uint16_t kGdtLimit = kGdtEntries * 8 - 1;

// A descriptor from base, 20-bit limit, the access byte (P, DPL, S, type) and
// the flags nibble (G, D/B, L, AVL).
[[nodiscard]] constexpr uint64_t gdt_entry(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags) {
  return (uint64_t{base & 0xff000000u} << 32) | (uint64_t{flags & 0xfu} << 52) |
         (uint64_t{limit & 0xf0000u} << 32) | (uint64_t{access} << 40) | (uint64_t{base & 0x00ffffffu} << 16) |
         uint64_t{limit & 0xffffu};
}

[[nodiscard]] std::array<uint64_t, kGdtEntries> boot_gdt();

// The KVM segment register (with its hidden part) that loading `selector`
// from `gdt` produces; the limit is expanded to bytes when G is set.
[[nodiscard]] kvm_segment segment_from_gdt(const std::array<uint64_t, kGdtEntries>& gdt, uint16_t selector);

// Writes boot_gdt() at kGdtAddr.
[[nodiscard]] Status write_gdt(const GuestMemory& mem);

}  // namespace kiln::x86
