// What the instruction emulator sees of a vCPU: copies of its KVM register
// state plus the few values KVM keeps elsewhere, and what it may ask the
// caller to inject. Plain data; no KVM calls.
#pragma once

#include "kvm/uapi.h"

#include <cstdint>
#include <optional>

namespace kiln::x86 {

struct CpuState {
  kvm_regs regs{};    // KVM_GET_REGS
  kvm_sregs sregs{};  // KVM_GET_SREGS (cr2 is written back for #PF)
  // XCR0 as KVM_GET_XCRS reports it, returned by xgetbv (ECX = 0 or 1).
  uint64_t xcr0 = 3;
  // IA32_TSC_AUX (MSR 0xc0000103, KVM_GET_MSRS), returned by rdpid. Unset:
  // rdpid is an emulation error rather than a silently wrong CPU number.
  std::optional<uint32_t> tsc_aux;
};

// An exception for the caller to inject with KVM_SET_VCPU_EVENTS.
struct Injection {
  uint8_t vector = 0;
  bool has_error_code = false;
  uint32_t error_code = 0;
};

// Exception vectors (Intel SDM vol. 3 §6.3.1, table 6-1).
inline constexpr uint8_t kVectorBreakpoint = 3;      // #BP
inline constexpr uint8_t kVectorInvalidOpcode = 6;   // #UD
inline constexpr uint8_t kVectorNoMathCoproc = 7;    // #NM
inline constexpr uint8_t kVectorStackFault = 12;     // #SS
inline constexpr uint8_t kVectorGeneralProt = 13;    // #GP
inline constexpr uint8_t kVectorPageFault = 14;      // #PF

// Register bits the emulator reads (SDM vol. 3 §2.3, §2.5, vol. 1 §3.4.3).
inline constexpr uint64_t kFlagCf = 1ull << 0;
inline constexpr uint64_t kFlagPf = 1ull << 2;
inline constexpr uint64_t kFlagAf = 1ull << 4;
inline constexpr uint64_t kFlagZf = 1ull << 6;
inline constexpr uint64_t kFlagSf = 1ull << 7;
inline constexpr uint64_t kFlagOf = 1ull << 11;
inline constexpr uint64_t kFlagRf = 1ull << 16;
inline constexpr uint64_t kFlagVm = 1ull << 17;
inline constexpr uint64_t kFlagAc = 1ull << 18;
inline constexpr uint64_t kFlagsArithmetic = kFlagCf | kFlagPf | kFlagAf | kFlagZf | kFlagSf | kFlagOf;

inline constexpr uint64_t kCr0ProtectionEnable = 1ull << 0;
inline constexpr uint64_t kCr0MonitorCoproc = 1ull << 1;
inline constexpr uint64_t kCr0TaskSwitched = 1ull << 3;
inline constexpr uint64_t kCr0WriteProtect = 1ull << 16;
inline constexpr uint64_t kCr0Paging = 1ull << 31;
inline constexpr uint64_t kCr4PageSizeExt = 1ull << 4;
inline constexpr uint64_t kCr4PhysAddrExt = 1ull << 5;
inline constexpr uint64_t kCr4La57 = 1ull << 12;
inline constexpr uint64_t kCr4OsXsave = 1ull << 18;
inline constexpr uint64_t kCr4Smep = 1ull << 20;
inline constexpr uint64_t kCr4Smap = 1ull << 21;
inline constexpr uint64_t kEferLongActive = 1ull << 10;
inline constexpr uint64_t kEferNoExecute = 1ull << 11;

}  // namespace kiln::x86
