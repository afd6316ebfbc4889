// Identity page tables for the 64-bit entry (Intel SDM vol. 3 §4.5, 4-level
// paging): one PML4 entry, one PDPT with four entries, four page directories of
// 2 MiB pages, mapping [0, 4 GiB) to itself. boot.rst's 64-bit protocol needs
// the kernel, zero page and command line identity-mapped; Linux builds its own
// tables for everything else.
#pragma once

#include <cstdint>

#include "common/result.h"
#include "memory/guest_memory.h"

namespace kiln::x86 {

inline constexpr uint64_t kPtePresent = 1 << 0;
inline constexpr uint64_t kPteWritable = 1 << 1;
inline constexpr uint64_t kPteHuge = 1 << 7;  // PS: a 2 MiB page in a PD entry
inline constexpr uint64_t kPteAddrMask = 0x000ffffffffff000;

// Writes PML4 at kPml4Addr, PDPT at kPdptAddr, PDs from kPdAddr.
[[nodiscard]] Status write_identity_page_tables(const GuestMemory& mem);

}  // namespace kiln::x86
