// The PVH boot ABI's start-of-day structures (Xen public
// arch-x86/hvm/start_info.h, version 1), handed to the kernel in EBX.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "arch/x86_64/e820.h"
#include "common/result.h"
#include "memory/guest_memory.h"

namespace kiln::x86 {

inline constexpr uint32_t kHvmStartMagic = 0x336ec578;  // "xEn3" with the 0x80 bit of "E" set
inline constexpr uint32_t kHvmStartInfoVersion = 1;     // has memmap_paddr / memmap_entries

struct HvmStartInfo {
  uint32_t magic;
  uint32_t version;
  uint32_t flags;
  uint32_t nr_modules;
  uint64_t modlist_paddr;
  uint64_t cmdline_paddr;
  uint64_t rsdp_paddr;
  uint64_t memmap_paddr;  // version >= 1
  uint32_t memmap_entries;
  uint32_t reserved;
};
static_assert(sizeof(HvmStartInfo) == 56);

struct HvmModlistEntry {
  uint64_t paddr;
  uint64_t size;
  uint64_t cmdline_paddr;
  uint64_t reserved;
};
static_assert(sizeof(HvmModlistEntry) == 32);

struct HvmMemmapEntry {
  uint64_t addr;
  uint64_t size;
  uint32_t type;  // XEN_HVM_MEMMAP_TYPE_*, same values as E820Type
  uint32_t reserved;
};
static_assert(sizeof(HvmMemmapEntry) == 24);

// Writes hvm_start_info at kPvhStartInfoAddr, the memory map at kPvhMemmapAddr
// and, when there is an initrd, one module entry at kPvhModlistAddr. The
// command line is expected at kCmdlineAddr; rsdp_paddr is `rsdp` (0 = none).
[[nodiscard]] Status write_start_info(const GuestMemory& mem, const std::optional<MemoryRange>& initrd,
                                      std::span<const E820Entry> e820, GuestAddress rsdp);

}  // namespace kiln::x86
