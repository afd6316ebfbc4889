// Pieces both boot paths share: the command line and the initrd.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "common/result.h"
#include "memory/guest_memory.h"

namespace kiln::x86 {

// Checks that `cmdline` fits `max_len` bytes (without the NUL; `limit_name`
// says whose limit it is) and kiln's own buffer, and writes it NUL-terminated
// at kCmdlineAddr.
[[nodiscard]] Status write_cmdline(const GuestMemory& mem, std::string_view cmdline, uint64_t max_len,
                                   std::string_view limit_name);

// Where an initrd of `size` bytes goes: the highest 4 KiB-aligned start such
// that it lies within [floor, limit). nullopt when it does not fit.
[[nodiscard]] std::optional<uint64_t> place_initrd(uint64_t size, uint64_t floor, uint64_t limit);

// Copies `initrd` to the place chosen by place_initrd with
// limit = min(addr_max + 1, end of low RAM). addr_max is inclusive, like the
// setup header's initrd_addr_max. Returns the range it occupies.
[[nodiscard]] Result<MemoryRange> load_initrd(const GuestMemory& mem, std::span<const uint8_t> initrd,
                                              uint64_t floor, uint64_t addr_max);

}  // namespace kiln::x86
