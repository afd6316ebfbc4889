// Writes the boot_params "zero page" for the 64-bit Linux boot protocol
// (boot.rst "64-bit BOOT PROTOCOL"): a clean page with the setup header, the
// command line and initrd pointers, and the e820 map.
#pragma once

#include <optional>
#include <span>

#include "arch/x86_64/bootparam.h"
#include "arch/x86_64/e820.h"
#include "common/result.h"
#include "memory/guest_memory.h"

namespace kiln::x86 {

// A setup header for a kernel that has none (an ELF vmlinux): the magics, a
// protocol version, and the limits kiln applies itself.
[[nodiscard]] SetupHeader synthetic_setup_header();

// Builds boot_params at kZeroPageAddr from `hdr` (the kernel's own header, or
// synthetic_setup_header()), pointing at the command line at kCmdlineAddr.
[[nodiscard]] Status write_zero_page(const GuestMemory& mem, const SetupHeader& hdr,
                                     const std::optional<MemoryRange>& initrd, std::span<const E820Entry> e820,
                                     GuestAddress rsdp);

}  // namespace kiln::x86
