// Guest linear -> guest physical translation through the guest's own page
// tables (Intel SDM vol. 3 chapter 4): 32-bit paging (4 KiB / 4 MiB pages),
// PAE paging (4 KiB / 2 MiB), 4-level and 5-level paging (4 KiB / 2 MiB /
// 1 GiB). Every table entry is read through GuestMemory.
#pragma once

#include <cstdint>
#include <variant>

#include "arch/x86_64/emulator/state.h"
#include "common/result.h"
#include "memory/guest_memory.h"

namespace kiln::x86 {

enum class AccessKind : uint8_t { kRead, kWrite, kFetch };

// #PF error code bits (SDM vol. 3 §4.7, figure 4-12).
inline constexpr uint32_t kPfErrPresent = 1u << 0;   // P: protection violation (0: not present)
inline constexpr uint32_t kPfErrWrite = 1u << 1;     // W/R: the access was a write
inline constexpr uint32_t kPfErrUser = 1u << 2;      // U/S: the access was a user-mode access
inline constexpr uint32_t kPfErrReserved = 1u << 3;  // RSVD: a reserved bit was set
inline constexpr uint32_t kPfErrFetch = 1u << 4;     // I/D: instruction fetch

// What the guest sees when the walk fails: inject #PF with this error code
// and CR2 = address.
struct PageFault {
  uint64_t address = 0;
  uint32_t error_code = 0;
};

struct Translation {
  GuestAddress gpa;
  uint64_t page_size = 0;  // 4 KiB, 2 MiB, 4 MiB or 1 GiB (4 KiB with paging off)
};

using WalkOutcome = std::variant<Translation, PageFault>;

// Translates `linear` for an `access` at the current privilege level
// (CPL 3 is a user-mode access). Checks P, R/W (with CR0.WP), U/S, XD (with
// EFER.NXE), SMEP, SMAP (with RFLAGS.AC), the PS bit where it is reserved and
// the reserved large-page address bits. On success it sets the accessed bits
// of the entries used and, for writes, the dirty bit of the leaf, as the CPU
// does. With CR0.PG = 0 the linear address is the physical address.
//
// `linear` must already be canonical (checked by the caller; a non-canonical
// address is #GP, not #PF). An error (not a PageFault) means a table entry
// lies outside guest RAM.
[[nodiscard]] Result<WalkOutcome> translate(const CpuState& state, uint64_t linear, AccessKind access,
                                            const GuestMemory& mem);

}  // namespace kiln::x86
