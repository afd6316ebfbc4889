// The guest memory map (BIOS INT 15h E820 style), shared by both boot paths:
// the zero page's e820_table and PVH's hvm_memmap_table use the same entries.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"
#include "memory/guest_memory.h"

namespace kiln::x86 {

// E820 types (Linux arch/x86/include/asm/e820/types.h); XEN_HVM_MEMMAP_TYPE_* use the same values.
enum class E820Type : uint32_t {
  kRam = 1,
  kReserved = 2,
  kAcpi = 3,
  kNvs = 4,
  kUnusable = 5,
};

struct E820Entry {
  uint64_t addr = 0;
  uint64_t size = 0;
  E820Type type = E820Type::kRam;
  bool operator==(const E820Entry&) const = default;
};

// The map for the given RAM ranges (as from ram_ranges()):
//   usable [0, 0x9fc00), reserved [0x9fc00, 1 MiB) for EBDA/VGA/BIOS,
//   usable [1 MiB, end of low RAM), and every further range as usable.
// The first range must start at 0 and reach past 1 MiB.
[[nodiscard]] Result<std::vector<E820Entry>> e820_map(std::span<const MemoryRange> ram);
[[nodiscard]] Result<std::vector<E820Entry>> e820_map(const GuestMemory& mem);

}  // namespace kiln::x86
