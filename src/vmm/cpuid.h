// The CPUID a vCPU sees: what KVM supports, with this vCPU's APIC id and the hypervisor bit.
// (The full CPU policy with templates comes with the Linux-guest work.)
#pragma once

#include "kvm/uapi.h"

#include <cstdint>
#include <vector>

namespace kiln {

[[nodiscard]] std::vector<kvm_cpuid_entry2> cpuid_for_vcpu(const std::vector<kvm_cpuid_entry2>& supported,
                                                           uint32_t vcpu_id, uint32_t vcpu_count);

}  // namespace kiln
