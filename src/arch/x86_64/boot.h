// Loading a Linux kernel into guest memory: format detection and dispatch.
//
// Three formats: a bzImage (boot.rst, entered through its 64-bit entry
// point), an ELF vmlinux with a Xen PVH note (entered in 32-bit protected
// mode with hvm_start_info), and an ELF vmlinux without one (entered in long
// mode at e_entry with a boot_params zero page, as Firecracker does).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "common/result.h"
#include "memory/guest_address.h"
#include "memory/guest_memory.h"

namespace kiln::x86 {

enum class EntryMode {
  kLong64,  // 64-bit mode, identity paging; RSI = boot_params
  kPvh32,   // 32-bit flat protected mode, paging off; EBX = hvm_start_info
};

struct BootEntry {
  EntryMode mode = EntryMode::kLong64;
  GuestAddress entry;      // first guest RIP
  GuestAddress boot_info;  // kLong64: boot_params (RSI); kPvh32: hvm_start_info (EBX)
  std::string kind;        // "bzImage", "PVH ELF", "64-bit ELF" (for logs)
};

struct BootSpec {
  std::span<const uint8_t> kernel;  // the whole kernel file
  std::span<const uint8_t> initrd;  // empty = none
  std::string cmdline;
  GuestAddress rsdp;  // ACPI RSDP handed to the kernel (0 = none: the kernel scans for it)
};

// Detects the format from the bytes, loads the kernel, and writes the command
// line, initrd, memory map and boot_params or hvm_start_info; for kLong64 also
// the GDT and identity page tables (for kPvh32 the GDT only). Every write goes
// through `mem`. Expects the layout of ram_ranges() (low RAM from 0 past 1 MiB).
// A kernel, initrd or command line that cannot be loaded is ErrorKind::kConfig.
[[nodiscard]] Result<BootEntry> load_kernel(const GuestMemory& mem, const BootSpec& spec);

}  // namespace kiln::x86
