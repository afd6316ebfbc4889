// ELF64 vmlinux: header and program-header validation, the Xen PVH entry note,
// and loading PT_LOAD segments at their physical addresses.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "arch/x86_64/boot.h"
#include "common/result.h"
#include "memory/guest_memory.h"

namespace kiln::x86 {

// XEN_ELFNOTE_PHYS32_ENTRY (xen/include/public/elfnote.h): the 32-bit
// physical PVH entry point, in a note named "Xen".
inline constexpr uint32_t kXenElfNotePhys32Entry = 18;

struct ElfSegment {
  uint64_t offset = 0;  // in the file
  uint64_t filesz = 0;
  uint64_t memsz = 0;   // the rest (memsz - filesz) is zeroed
  GuestAddress paddr;
};

struct ElfKernel {
  uint64_t entry = 0;                 // e_entry (a physical address for vmlinux)
  std::vector<ElfSegment> segments;   // PT_LOAD, in file order
  std::optional<uint32_t> pvh_entry;  // from the PVH note, if any
};

// True when the bytes start with the ELF magic.
[[nodiscard]] bool has_elf_magic(std::span<const uint8_t> file);

// Validates an x86_64 little-endian ET_EXEC ELF64, its program headers and
// PT_LOAD file ranges, and finds the PVH note in a PT_NOTE segment or, failing
// that, an SHT_NOTE section. Touches no guest memory.
[[nodiscard]] Result<ElfKernel> parse_elf(std::span<const uint8_t> file);

// Copies each segment to its p_paddr and zeroes its bss. Segments must lie in
// RAM at or above 1 MiB (below are kiln's boot structures). Returns one past
// the highest byte loaded.
[[nodiscard]] Result<GuestAddress> load_elf_segments(const GuestMemory& mem, std::span<const uint8_t> file,
                                                     const ElfKernel& kernel);

// Loads the kernel, command line, initrd and hvm_start_info (PVH note
// present) or boot_params (no note).
[[nodiscard]] Result<BootEntry> load_elf(const GuestMemory& mem, const BootSpec& spec);

}  // namespace kiln::x86
