// CPU topology in CPUID: `vcpus` cores of one thread each in a single package, APIC id = vCPU
// index (Intel SDM vol. 2A "CPUID"; AMD APM vol. 3 appendix E.4).
#include <algorithm>

#include "arch/x86_64/platform/cpuid_entries.h"

namespace kiln::x86::cpuid_detail {

namespace {

constexpr uint32_t kVendorAmdEbx = 0x68747541;    // "Auth" of "AuthenticAMD"
constexpr uint32_t kVendorHygonEbx = 0x6f677948;  // "Hygo" of "HygonGenuine"
constexpr uint32_t kLevelTypeSmt = 1;
constexpr uint32_t kLevelTypeCore = 2;

uint32_t ceil_log2(uint32_t n) {
  uint32_t bits = 0;
  while ((uint64_t{1} << bits) < n) ++bits;
  return bits;
}

// Replaces bits [lo, lo + width) of r with value (which must fit).
void set_field(uint32_t& r, unsigned lo, unsigned width, uint32_t value) {
  const uint32_t mask = ((width == 32 ? 0u : (1u << width)) - 1u) << lo;
  r = (r & ~mask) | ((value << lo) & mask);
}

bool is_amd_like(std::span<const kvm_cpuid_entry2> entries) {
  const kvm_cpuid_entry2* leaf0 = find_entry(entries, 0, 0);
  return leaf0 != nullptr && (leaf0->ebx == kVendorAmdEbx || leaf0->ebx == kVendorHygonEbx);
}

// Leaves 0xB and 0x1F: SMT level (1 thread), core level (all vCPUs), then an invalid level.
void extended_topology(std::vector<kvm_cpuid_entry2>& entries, uint32_t leaf, uint32_t vcpus, uint32_t vcpu_id) {
  if (find_entry(entries, leaf, 0) == nullptr) return;
  std::erase_if(entries, [leaf](const kvm_cpuid_entry2& e) { return e.function == leaf; });
  const uint32_t core_shift = ceil_log2(vcpus);
  const kvm_cpuid_entry2 levels[] = {
      {leaf, 0, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 0, 1, (kLevelTypeSmt << 8) | 0, vcpu_id, {}},
      {leaf, 1, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, core_shift, vcpus, (kLevelTypeCore << 8) | 1, vcpu_id, {}},
      {leaf, 2, KVM_CPUID_FLAG_SIGNIFCANT_INDEX, 0, 0, 2, vcpu_id, {}},
  };
  entries.insert(entries.end(), std::begin(levels), std::end(levels));
}

// Leaves 4 (Intel) and 0x8000001D (AMD) describe caches: L1 and L2 belong to one core, L3 to the
// package. EAX[4:0] is the cache type (0: no more caches), EAX[7:5] the level, EAX[25:14] the
// logical processors sharing the cache minus 1.
void cache_sharing(std::vector<kvm_cpuid_entry2>& entries, uint32_t leaf, uint32_t vcpus, bool cores_field) {
  for (auto& e : entries) {
    if (e.function != leaf || (e.eax & 0x1f) == 0) continue;
    const uint32_t level = (e.eax >> 5) & 0x7;
    set_field(e.eax, 14, 12, level >= 3 ? std::min(vcpus, 4096u) - 1 : 0);
    // Leaf 4 EAX[31:26]: addressable core ids in the package minus 1.
    if (cores_field) set_field(e.eax, 26, 6, std::min(vcpus, 64u) - 1);
  }
}

}  // namespace

void apply_topology(std::vector<kvm_cpuid_entry2>& entries, uint32_t vcpus, uint32_t vcpu_id) {
  if (kvm_cpuid_entry2* leaf1 = find_entry(entries, 1, 0)) {
    // EBX[31:24] initial APIC id; EBX[23:16] addressable logical processor ids in the package
    // (rounded up to a power of two); EDX[28] HTT: that field is valid.
    set_field(leaf1->ebx, 24, 8, vcpu_id);
    set_field(leaf1->ebx, 16, 8, std::min(uint32_t{1} << ceil_log2(vcpus), 255u));
    set_field(leaf1->edx, 28, 1, vcpus > 1 ? 1 : 0);
  }
  cache_sharing(entries, 4, vcpus, true);
  extended_topology(entries, 0xb, vcpus, vcpu_id);
  extended_topology(entries, 0x1f, vcpus, vcpu_id);

  if (!is_amd_like(entries)) return;
  if (kvm_cpuid_entry2* e = find_entry(entries, 0x80000008, 0)) {
    // ECX[7:0] NC: cores in the package minus 1; ECX[15:12] ApicIdCoreIdSize.
    set_field(e->ecx, 0, 8, vcpus - 1);
    set_field(e->ecx, 12, 4, ceil_log2(vcpus));
  }
  cache_sharing(entries, 0x8000001d, vcpus, false);
  if (kvm_cpuid_entry2* e = find_entry(entries, 0x8000001e, 0)) {
    // EAX extended APIC id; EBX[7:0] core id, EBX[15:8] threads per core minus 1; ECX[7:0] node
    // id, ECX[10:8] nodes per package minus 1.
    e->eax = vcpu_id;
    set_field(e->ebx, 0, 16, vcpu_id & 0xff);
    set_field(e->ecx, 0, 11, 0);
    e->edx = 0;
  }
}

}  // namespace kiln::x86::cpuid_detail
