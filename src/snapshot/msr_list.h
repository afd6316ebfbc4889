// Which MSRs a vCPU snapshot holds, and in which order restore writes them.
//
// KVM_GET_MSR_INDEX_LIST names every MSR KVM can save, including PMU, VMX capability, MCE and
// Hyper-V MSRs that kiln never exposes (reading some of them fails, writing others back is
// refused). A snapshot keeps only the MSRs that hold guest-visible state kiln's guests can change
// (an allow-list in the spirit of Firecracker's msr.rs), plus the MTRRs, which KVM emulates but
// does not list (QEMU saves them the same way).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace kiln::snapshot {

namespace msr {
// Intel SDM vol. 4; Documentation/virt/kvm/x86/msr.rst for the KVM ones.
inline constexpr uint32_t kTsc = 0x10;
inline constexpr uint32_t kKvmWallClock = 0x11;
inline constexpr uint32_t kKvmSystemTime = 0x12;
inline constexpr uint32_t kTscAdjust = 0x3b;
inline constexpr uint32_t kSysenterCs = 0x174;
inline constexpr uint32_t kSysenterEsp = 0x175;
inline constexpr uint32_t kSysenterEip = 0x176;
inline constexpr uint32_t kMiscEnable = 0x1a0;
inline constexpr uint32_t kPat = 0x277;
inline constexpr uint32_t kMtrrDefType = 0x2ff;
inline constexpr uint32_t kTscDeadline = 0x6e0;
inline constexpr uint32_t kStar = 0xc0000081;
inline constexpr uint32_t kLstar = 0xc0000082;
inline constexpr uint32_t kCstar = 0xc0000083;
inline constexpr uint32_t kSyscallMask = 0xc0000084;
inline constexpr uint32_t kKernelGsBase = 0xc0000102;
inline constexpr uint32_t kTscAux = 0xc0000103;
inline constexpr uint32_t kKvmWallClockNew = 0x4b564d00;
inline constexpr uint32_t kKvmSystemTimeNew = 0x4b564d01;
inline constexpr uint32_t kKvmAsyncPfEn = 0x4b564d02;
inline constexpr uint32_t kKvmStealTime = 0x4b564d03;
inline constexpr uint32_t kKvmPvEoiEn = 0x4b564d04;
inline constexpr uint32_t kKvmPollControl = 0x4b564d05;
inline constexpr uint32_t kKvmAsyncPfInt = 0x4b564d06;
}  // namespace msr

// The MSRs to save, from KVM's index list: the allow-listed ones it names, the essential ones
// (always, see msr_is_essential), the MTRRs. Order: ascending index, except that
// MSR_KVM_ASYNC_PF_INT comes before MSR_KVM_ASYNC_PF_EN (KVM refuses to enable interrupt-based
// async page faults before their vector is set). MSR_IA32_TSC (0x10) precedes
// MSR_IA32_TSC_DEADLINE, which is relative to it.
[[nodiscard]] std::vector<uint32_t> msrs_to_save(std::span<const uint32_t> kvm_index_list);

// MSRs without which a restored guest cannot run on (TSC, syscall entry, PAT, kvmclock, async PF,
// steal time, PV EOI, TSC deadline, MISC_ENABLE): a snapshot that cannot read one fails.
[[nodiscard]] bool msr_is_essential(uint32_t index);

// "MSR 0xc0000082 (LSTAR)" for messages; the bare number for MSRs without a name here.
[[nodiscard]] std::string msr_name(uint32_t index);

}  // namespace kiln::snapshot
