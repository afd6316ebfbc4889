// Will a snapshot's guest run on this host? Its CPUID (what the guest saw) against what KVM on
// this host supports.
#pragma once

#include "kvm/uapi.h"

#include <vector>

#include "common/result.h"

namespace kiln::snapshot {

// Fails, naming what is missing, when:
//  - the CPU vendor (leaf 0) differs;
//  - a feature bit the guest saw is not in `host_supported` (KVM_GET_SUPPORTED_CPUID): leaf 1
//    ECX/EDX, leaf 7.0 EBX/ECX/EDX, 0x80000001 ECX/EDX, leaf 0xD.0 EAX/EDX (XCR0 components),
//    0xD.1 EAX, 0x40000001 EAX (KVM paravirtual features). Not compared: bits kiln sets itself
//    or that mirror guest control registers (1.ECX hypervisor, TSC-deadline, OSXSAVE; 1.EDX HTT;
//    7.0.ECX OSPKE). The TSC-deadline timer is a KVM capability (KVM_CAP_TSC_DEADLINE_TIMER),
//    for the caller to check;
//  - an XSAVE component the guest saw (0xD.i, i >= 2) has another size or offset here: the
//    saved XSAVE area follows the host's layout (kvm/api.txt 4.42) and would be misread.
[[nodiscard]] Status check_cpu_compatible(const std::vector<kvm_cpuid_entry2>& saved,
                                          const std::vector<kvm_cpuid_entry2>& host_supported);

}  // namespace kiln::snapshot
