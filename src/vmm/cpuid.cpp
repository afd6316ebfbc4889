#include "vmm/cpuid.h"

namespace kiln {

std::vector<kvm_cpuid_entry2> cpuid_for_vcpu(const std::vector<kvm_cpuid_entry2>& supported, uint32_t vcpu_id,
                                             uint32_t vcpu_count) {
  std::vector<kvm_cpuid_entry2> out = supported;
  for (auto& e : out) {
    switch (e.function) {
      case 1:
        // EBX[31:24] initial APIC id, EBX[23:16] logical processors per package; ECX[31] hypervisor.
        e.ebx = (e.ebx & 0x0000ffffu) | (vcpu_id << 24) | ((vcpu_count & 0xffu) << 16);
        e.ecx |= 1u << 31;
        if (vcpu_count > 1) e.edx |= 1u << 28;  // HTT: the logical count field is valid
        break;
      case 0xb:
      case 0x1f:
        e.edx = vcpu_id;  // x2APIC id
        break;
      default:
        break;
    }
  }
  return out;
}

}  // namespace kiln
