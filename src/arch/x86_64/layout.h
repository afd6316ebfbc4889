// Guest-physical layout of a kiln x86_64 VM.
//
// Low memory follows Firecracker's choices: boot structures in the first
// 64 KiB, command line at 128 KiB, kernel at 1 MiB, a 1 GiB MMIO hole below
// 4 GiB for devices, and RAM beyond 3 GiB continued above 4 GiB.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "memory/guest_address.h"
#include "memory/guest_memory.h"

namespace kiln::x86 {

// GDT for both entry modes (gdt.h describes its descriptors).
inline constexpr GuestAddress kGdtAddr{0x500};

// PVH: hvm_start_info, then the module list (one entry), then the memory map.
inline constexpr GuestAddress kPvhStartInfoAddr{0x6000};
inline constexpr GuestAddress kPvhModlistAddr{0x6040};
inline constexpr GuestAddress kPvhMemmapAddr{0x6080};
inline constexpr uint64_t kPvhMemmapMaxEntries = (0x7000 - 0x6080) / 24;

// Linux boot protocol: the boot_params "zero page".
inline constexpr GuestAddress kZeroPageAddr{0x7000};

// Initial stack for the boot vCPU (grows down inside the page at 0x8000).
inline constexpr GuestAddress kBootStackPointer{0x8ff0};

// Identity page tables for the 64-bit entry: PML4, one PDPT, four PDs of 2 MiB pages.
inline constexpr GuestAddress kPml4Addr{0x9000};
inline constexpr GuestAddress kPdptAddr{0xa000};
inline constexpr GuestAddress kPdAddr{0xb000};  // 0xb000..0xefff
inline constexpr uint64_t kIdentityMapBytes = 4 * GiB;

// Kernel command line, NUL-terminated; kCmdlineMaxBytes includes the NUL.
inline constexpr GuestAddress kCmdlineAddr{0x20000};
inline constexpr uint64_t kCmdlineMaxBytes = 64 * KiB;

// Top of conventional memory: EBDA and BIOS area up to 1 MiB are reserved in e820.
inline constexpr GuestAddress kEbdaStart{0x9fc00};
inline constexpr GuestAddress kHighMemStart{0x100000};
// Where a bzImage's protected-mode code goes unless it prefers pref_address.
inline constexpr GuestAddress kKernelLoadAddr = kHighMemStart;

// Device MMIO window: no RAM in [3 GiB, 4 GiB).
inline constexpr uint64_t kMmioHoleStart = 3 * GiB;
inline constexpr uint64_t kMmioHoleEnd = 4 * GiB;

// Smallest RAM kiln boots: the boot area plus 1 MiB of room above the kernel address.
inline constexpr uint64_t kMinRamBytes = 2 * MiB;

// RAM ranges for ram_bytes of guest memory: [0, min(ram, 3 GiB)) and, for the
// rest, [4 GiB, 4 GiB + rest). Pass the result to GuestMemory::create.
[[nodiscard]] std::vector<MemoryRange> ram_ranges(uint64_t ram_bytes);

// One past the last byte of the RAM region that starts at 0 (the "low" RAM
// under the MMIO hole); GuestAddress(0) if there is none.
[[nodiscard]] GuestAddress low_ram_end(std::span<const MemoryRange> ram);
[[nodiscard]] GuestAddress low_ram_end(const GuestMemory& mem);

// The RAM ranges of an existing GuestMemory.
[[nodiscard]] std::vector<MemoryRange> ram_ranges_of(const GuestMemory& mem);

}  // namespace kiln::x86
