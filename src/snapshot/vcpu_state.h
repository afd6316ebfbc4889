// One vCPU's KVM state as plain data: save from a vCPU fd, restore into a new one, and the
// snapshot encoding (decode validates every field: the bytes come from a file).
#pragma once

#include "kvm/uapi.h"

#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"
#include "kvm/vcpu_fd.h"

namespace kiln::snapshot {

// Limits of a decoded snapshot (KVM's own: KVM_MAX_CPUID_ENTRIES is 256; KVM_GET_MSR_INDEX_LIST
// lists a few hundred MSRs; the XSAVE area is 4 KiB, about 11 KiB with AMX).
inline constexpr size_t kMaxCpuidEntries = 256;
inline constexpr size_t kMaxMsrs = 1024;
inline constexpr size_t kMaxXsaveBytes = 64 * 1024;
inline constexpr uint32_t kMaxTscKhz = 100'000'000;  // 100 GHz

struct VcpuState {
  // What KVM_SET_CPUID2 was given (KVM cannot read it back): set first on restore.
  std::vector<kvm_cpuid_entry2> cpuid;
  // KVM_GET_TSC_KHZ at save time; 0 when KVM could not tell.
  uint32_t tsc_khz = 0;
  kvm_mp_state mp_state{};
  kvm_regs regs{};
  kvm_sregs sregs{};
  kvm_fpu fpu{};
  std::vector<uint8_t> xsave;  // KVM_GET_XSAVE(2): at least 4096 bytes
  kvm_xcrs xcrs{};
  kvm_debugregs debugregs{};
  kvm_lapic_state lapic{};
  std::vector<kvm_msr_entry> msrs;  // in restore order (msr_list.h)
  kvm_vcpu_events events{};
};

// Reads the vCPU's state; the vCPU must not be running (its thread is parked outside KVM_RUN,
// and for KVM_GET_VCPU_EVENTS no other vCPU runs either). After a KVM_EXIT_IO or KVM_EXIT_MMIO
// the instruction completes only on the next KVM_RUN (kvm/api.txt 5, "kvm_run"): run once with
// kvm_run.immediate_exit = 1 (KVM completes it and returns EINTR) before saving. `msr_indices`: msrs_to_save() of
// KVM's index list. An MSR KVM refuses to read is left out with a log line, unless it is
// essential (msr_is_essential): then saving fails. `cpuid`: the entries kiln gave
// KVM_SET_CPUID2 for this vCPU.
[[nodiscard]] Result<VcpuState> save_vcpu(VcpuFd& vcpu, std::span<const uint32_t> msr_indices,
                                          std::vector<kvm_cpuid_entry2> cpuid);

// Writes `state` into a freshly created vCPU of a VM whose irqchip exists and whose VM state
// (restore_vm: irqchip, PIT, clock) is already restored, in the order KVM needs:
// CPUID, TSC frequency, MP state, regs, sregs (APIC base), FPU, XSAVE, XCRs, debug registers,
// LAPIC (after the APIC base, before the TSC-deadline MSR), MSRs (TSC first), vCPU events last
// (KVM_SET_REGS and KVM_SET_SREGS clear pending exceptions and interrupts). When the host TSC
// frequency differs from the saved one by more than 250 ppm, KVM_SET_TSC_KHZ scales it; a KVM
// that cannot is an error (the guest's clock would run at the wrong rate).
// On error the vCPU is half written: the caller discards the VM.
[[nodiscard]] Status restore_vcpu(VcpuFd& vcpu, const VcpuState& state);

[[nodiscard]] std::vector<uint8_t> encode_vcpu_state(const VcpuState& state);
// `index` names the vCPU in error messages.
[[nodiscard]] Result<VcpuState> decode_vcpu_state(std::span<const uint8_t> bytes, uint32_t index);

}  // namespace kiln::snapshot
