// bzImage: parsing the setup header and loading the protected-mode kernel for
// its 64-bit entry point (Documentation/arch/x86/boot.rst).
#pragma once

#include <cstdint>
#include <span>

#include "arch/x86_64/boot.h"
#include "arch/x86_64/bootparam.h"
#include "common/result.h"
#include "memory/guest_memory.h"

namespace kiln::x86 {

inline constexpr uint16_t kMinBootProtocol = 0x0206;

struct BzImage {
  SetupHeader header{};  // the file's setup header; bytes past its end are zero
  uint64_t setup_bytes = 0;                   // (setup_sects + 1) * 512: the real-mode part
  std::span<const uint8_t> protected_mode;    // loaded at the load address
  uint64_t init_size = 0;                     // linear memory the kernel needs from its load address
};

// True when the bytes carry the "HdrS" magic at 0x202.
[[nodiscard]] bool has_setup_header(std::span<const uint8_t> file);

// Validates the setup header (magics, protocol >= 2.06, sizes, LOADED_HIGH,
// XLF_KERNEL_64). Touches no guest memory.
[[nodiscard]] Result<BzImage> parse_bzimage(std::span<const uint8_t> file);

// Where the protected-mode code goes for RAM ending at low_ram_end:
// pref_address when the protocol has it and the kernel fits there, else
// 1 MiB (a non-relocatable kernel has no choice but pref_address).
[[nodiscard]] Result<GuestAddress> bzimage_load_address(const BzImage& image, GuestAddress low_ram_end);

// Loads the kernel, command line, initrd and zero page; the entry is
// load address + 0x200 in long mode with RSI = boot_params.
[[nodiscard]] Result<BootEntry> load_bzimage(const GuestMemory& mem, const BootSpec& spec);

}  // namespace kiln::x86
