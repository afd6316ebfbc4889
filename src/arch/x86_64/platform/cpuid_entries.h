// Lookup and bit helpers over a CPUID entry list (KVM_SET_CPUID2 semantics: an entry matches a
// subleaf only when KVM_CPUID_FLAG_SIGNIFCANT_INDEX is set; otherwise it answers every subleaf).
#pragma once

#include "kvm/uapi.h"

#include <cstdint>
#include <span>
#include <vector>

#include "arch/x86_64/platform/cpu_features.h"

namespace kiln::x86::cpuid_detail {

[[nodiscard]] inline bool matches(const kvm_cpuid_entry2& e, uint32_t leaf, uint32_t subleaf) {
  return e.function == leaf && ((e.flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) == 0 || e.index == subleaf);
}

[[nodiscard]] inline const kvm_cpuid_entry2* find_entry(std::span<const kvm_cpuid_entry2> entries, uint32_t leaf,
                                                        uint32_t subleaf) {
  for (const auto& e : entries) {
    if (matches(e, leaf, subleaf)) return &e;
  }
  return nullptr;
}

[[nodiscard]] inline kvm_cpuid_entry2* find_entry(std::vector<kvm_cpuid_entry2>& entries, uint32_t leaf,
                                                  uint32_t subleaf) {
  for (auto& e : entries) {
    if (matches(e, leaf, subleaf)) return &e;
  }
  return nullptr;
}

[[nodiscard]] inline uint32_t& reg(kvm_cpuid_entry2& e, CpuidReg r) {
  switch (r) {
    case CpuidReg::kEax:
      return e.eax;
    case CpuidReg::kEbx:
      return e.ebx;
    case CpuidReg::kEcx:
      return e.ecx;
    case CpuidReg::kEdx:
      break;
  }
  return e.edx;
}

[[nodiscard]] inline bool has_bit(std::span<const kvm_cpuid_entry2> entries, const CpuidBit& b) {
  const kvm_cpuid_entry2* e = find_entry(entries, b.leaf, b.subleaf);
  if (e == nullptr) return false;
  kvm_cpuid_entry2 copy = *e;
  return ((reg(copy, b.reg) >> b.bit) & 1u) != 0;
}

// Sets or clears a bit; false when the leaf is absent (the bit cannot be set then).
inline bool set_bit(std::vector<kvm_cpuid_entry2>& entries, const CpuidBit& b, bool on) {
  kvm_cpuid_entry2* e = find_entry(entries, b.leaf, b.subleaf);
  if (e == nullptr) return false;
  uint32_t& r = reg(*e, b.reg);
  r = on ? (r | (1u << b.bit)) : (r & ~(1u << b.bit));
  return true;
}

// Writes the topology of `vcpus` single-thread cores in one package for vCPU `vcpu_id`
// (cpuid_topology.cpp).
void apply_topology(std::vector<kvm_cpuid_entry2>& entries, uint32_t vcpus, uint32_t vcpu_id);

}  // namespace kiln::x86::cpuid_detail
