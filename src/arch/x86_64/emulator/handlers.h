// One function per instruction family; each works on a Context and either
// completes (the caller advances RIP and commits the state) or stops with an
// error or a guest exception.
#pragma once

#include "arch/x86_64/emulator/emulation_types.h"

namespace kiln::x86::emu {

// popcnt, lzcnt, tzcnt (bit_count.cpp)
[[nodiscard]] Emu<void> emulate_bit_count(Context& ctx);
// cmpxchg8b, cmpxchg16b (cmpxchg.cpp)
[[nodiscard]] Emu<void> emulate_cmpxchg_wide(Context& ctx);
// int3, fwait, clac, stac, xgetbv, rdpid (system_insns.cpp)
[[nodiscard]] Emu<void> emulate_int3(Context& ctx);
[[nodiscard]] Emu<void> emulate_fwait(Context& ctx);
[[nodiscard]] Emu<void> emulate_clac_stac(Context& ctx);
[[nodiscard]] Emu<void> emulate_xgetbv(Context& ctx);
[[nodiscard]] Emu<void> emulate_rdpid(Context& ctx);

}  // namespace kiln::x86::emu
