// The contract between the start-up code (entry.S) and a guest program.
#pragma once

#include <cstdint>

#include "layout.h"

namespace kiln::guest {

enum class BootKind : uint32_t {
  pvh = KILN_BOOT_PVH,
  elf64 = KILN_BOOT_ELF64,
  bzimage = KILN_BOOT_BZIMAGE,
};

}  // namespace kiln::guest

// Defined by the guest program. Called on the runtime's stack in 64-bit mode with an identity map
// of 0..4 GiB; `info` is the physical address of struct hvm_start_info (BootKind::pvh) or of
// struct boot_params (the other kinds). Must not return.
extern "C" [[noreturn]] void kiln_main(kiln::guest::BootKind kind, uint64_t info);
