// The CPUID each vCPU sees: KVM_GET_SUPPORTED_CPUID, shaped by kiln's policy.
//
//   1. KVM leaves: 0x40000000 = max leaf 0x40000001 and "KVMKVMKVM\0\0\0"; 0x40000001 EAX = what
//      KVM reports, limited to kOfferedKvmFeatures (Documentation/virt/kvm/x86/cpuid.rst); EDX = 0.
//   2. Leaf 1 ECX: the hypervisor bit; TSC-deadline when CpuidConfig::tsc_deadline_timer.
//   3. The CPU template's hidden features, then the overrides in order ("+name" needs KVM support).
//   4. Dependencies (cpu_features.h): e.g. no XSAVE means no OSXSAVE/AVX*, and leaf 0xD goes.
//   5. PMU: unless CpuidConfig::pmu, leaf 0xA (and AMD's 0x80000022) are zero, PDCM and AMD's
//      core/NB counter bits clear. Leaf 6 keeps only ARAT.
//   6. Topology: N vCPUs are N cores of one package, one thread each, APIC id = vCPU index:
//      leaf 1 EBX[31:24] and EBX[23:16], HTT; leaf 4 EAX[31:26] and EAX[25:14]; leaves 0xB/0x1F
//      (SMT and core levels, x2APIC id in EDX); AMD 0x80000008 ECX (NC, ApicIdSize),
//      0x8000001D EAX[25:14], 0x8000001E (extended APIC id, core id).
#pragma once

#include "kvm/uapi.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "arch/x86_64/platform/cpu_features.h"
#include "arch/x86_64/platform/platform_layout.h"
#include "common/result.h"

namespace kiln::x86 {

// KVM paravirtual features kiln offers when KVM reports them: kvmclock (both MSR sets and the
// stable bit), no I/O delay, and the in-kernel-only ones (async page faults, steal time, PV EOI,
// PV unhalt, PV TLB flush, PV IPIs, poll control, PV sched yield). Not offered: MSI extended
// destination ids (no MSI), HC_MAP_GPA_RANGE and migration control (need VMM exits).
inline constexpr uint32_t kOfferedKvmFeatures =
    (1u << 0) | (1u << 1) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 9) | (1u << 10) |
    (1u << 11) | (1u << 12) | (1u << 13) | (1u << 14) | (1u << 24);

struct CpuidConfig {
  uint32_t vcpus = 1;
  std::string template_name = "none";
  std::vector<FeatureOverride> overrides;
  // Expose the performance monitoring leaves as KVM reports them.
  bool pmu = false;
  // KVM_CAP_TSC_DEADLINE_TIMER with the in-kernel irqchip: KVM_GET_SUPPORTED_CPUID never reports
  // leaf 1 ECX[24], the VMM sets it (Documentation/virt/kvm/api.rst, KVM_GET_SUPPORTED_CPUID).
  bool tsc_deadline_timer = false;
};

// The entries for vCPU `vcpu_id` (0 <= vcpu_id < cfg.vcpus <= kMaxVcpus), ready for KVM_SET_CPUID2.
[[nodiscard]] Result<std::vector<kvm_cpuid_entry2>> build_cpuid(std::span<const kvm_cpuid_entry2> supported,
                                                                 const CpuidConfig& cfg, uint32_t vcpu_id);

// Kernel parameters a Linux guest on a kvm_pvm host needs on top of its CPUID: "noxsave" when
// `cpuid` hides XSAVE and `cmdline` does not already say it, else "". kvm_pvm runs the guest
// kernel deprivileged, and on AMD hosts (seen 2026-12 on EPYC) its CPUID instruction runs natively,
// so the guest sees the host's XSAVE whatever KVM_SET_CPUID2 said; its XRSTOR then faults into
// KVM's emulator, which has no XRSTOR. `noxsave` makes Linux use FXSAVE, as hiding XSAVE would.
[[nodiscard]] std::string pvm_kernel_parameters(std::span<const kvm_cpuid_entry2> cpuid, std::string_view cmdline);

}  // namespace kiln::x86
