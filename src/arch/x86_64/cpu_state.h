// Register state of the boot vCPU for each entry mode.
#pragma once

#include "kvm/uapi.h"

#include "arch/x86_64/boot.h"

namespace kiln::x86 {

inline constexpr uint64_t kCr0Pe = 1ull << 0;
inline constexpr uint64_t kCr0Et = 1ull << 4;
inline constexpr uint64_t kCr0Ne = 1ull << 5;
inline constexpr uint64_t kCr0Nw = 1ull << 29;
inline constexpr uint64_t kCr0Cd = 1ull << 30;
inline constexpr uint64_t kCr0Pg = 1ull << 31;
inline constexpr uint64_t kCr4Pae = 1ull << 5;
inline constexpr uint64_t kEferLme = 1ull << 8;
inline constexpr uint64_t kEferLma = 1ull << 10;
inline constexpr uint64_t kRflagsReserved1 = 1ull << 1;  // bit 1 always reads 1

// Fills `regs` from scratch and adjusts `sregs` (as KVM_GET_SREGS returned
// them) for `entry`:
//   kLong64 (boot.rst 64-bit protocol): CS = 0x10 64-bit code, DS/ES/FS/GS/SS
//     = 0x18 flat data, TR = 0x20, GDT at kGdtAddr, IDT limit 0,
//     CR0 = PE|ET|NE|PG, CR3 = kPml4Addr, CR4 = PAE, EFER = LME|LMA,
//     RIP = entry, RSI = boot_params, RSP = RBP = kBootStackPointer, RFLAGS = 2.
//   kPvh32 (Xen docs/misc/pvh.pandoc): CS = 0x08 flat 32-bit code, DS/ES/FS/GS/SS
//     = 0x18 flat data, TR = 0x20, CR0 = PE, CR4 = 0, EFER = 0,
//     RIP = entry, RBX = hvm_start_info, RFLAGS = 2.
void set_boot_registers(const BootEntry& entry, kvm_regs& regs, kvm_sregs& sregs);

// x87 and SSE control state after FNINIT / at reset: FCW 0x37f, MXCSR 0x1f80.
[[nodiscard]] kvm_fpu boot_fpu();

}  // namespace kiln::x86
