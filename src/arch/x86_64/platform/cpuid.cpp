#include "arch/x86_64/platform/cpuid.h"

#include <algorithm>
#include <sstream>

#include "arch/x86_64/platform/cpuid_entries.h"
#include "arch/x86_64/platform/platform_layout.h"

namespace kiln::x86 {

namespace {

using cpuid_detail::find_entry;
using cpuid_detail::has_bit;
using cpuid_detail::set_bit;

constexpr uint32_t kKvmSignatureLeaf = 0x40000000;
constexpr uint32_t kKvmFeaturesLeaf = 0x40000001;
constexpr uint32_t kHypervisorRangeEnd = 0x40000100;
// "KVMKVMKVM\0\0\0" in EBX, ECX, EDX (Documentation/virt/kvm/x86/cpuid.rst).
constexpr uint32_t kKvmSignatureEbx = 0x4b4d564b;
constexpr uint32_t kKvmSignatureEcx = 0x564b4d56;
constexpr uint32_t kKvmSignatureEdx = 0x0000004d;

constexpr CpuidBit kHypervisorBit{1, 0, CpuidReg::kEcx, 31};
constexpr CpuidBit kTscDeadlineBit{1, 0, CpuidReg::kEcx, 24};
constexpr CpuidBit kXsaveBit{1, 0, CpuidReg::kEcx, 26};
constexpr CpuidBit kPdcmBit{1, 0, CpuidReg::kEcx, 15};
constexpr CpuidBit kAmdPerfCtrCore{0x80000001, 0, CpuidReg::kEcx, 23};
constexpr CpuidBit kAmdPerfCtrNb{0x80000001, 0, CpuidReg::kEcx, 24};
constexpr CpuidBit kAmdPerfCtrLlc{0x80000001, 0, CpuidReg::kEcx, 28};
constexpr uint32_t kLeaf6Arat = 1u << 2;  // APIC timer always running

void zero_leaf(std::vector<kvm_cpuid_entry2>& entries, uint32_t leaf) {
  for (auto& e : entries) {
    if (e.function == leaf) e.eax = e.ebx = e.ecx = e.edx = 0;
  }
}

// Step 1: kiln's own hypervisor leaves replace whatever 0x40000000..0x400000ff KVM reported.
void kvm_leaves(std::vector<kvm_cpuid_entry2>& entries, std::span<const kvm_cpuid_entry2> supported) {
  const kvm_cpuid_entry2* reported = find_entry(supported, kKvmFeaturesLeaf, 0);
  const uint32_t features = reported != nullptr ? reported->eax & kOfferedKvmFeatures : 0;
  std::erase_if(entries, [](const kvm_cpuid_entry2& e) {
    return e.function >= kKvmSignatureLeaf && e.function < kHypervisorRangeEnd;
  });
  entries.push_back({kKvmSignatureLeaf, 0, 0, kKvmFeaturesLeaf, kKvmSignatureEbx, kKvmSignatureEcx, kKvmSignatureEdx,
                     {}});
  entries.push_back({kKvmFeaturesLeaf, 0, 0, features, 0, 0, 0, {}});
}

// Step 3: "+name" only for bits KVM supports (or kiln provides: the TSC-deadline timer).
Status apply_overrides(std::vector<kvm_cpuid_entry2>& entries, std::span<const kvm_cpuid_entry2> supported,
                       const CpuidConfig& cfg) {
  for (const FeatureOverride& o : cfg.overrides) {
    if (!o.enable) {
      set_bit(entries, o.bit, false);
      continue;
    }
    const bool kiln_provided = cfg.tsc_deadline_timer && o.bit.leaf == kTscDeadlineBit.leaf &&
                               o.bit.reg == kTscDeadlineBit.reg && o.bit.bit == kTscDeadlineBit.bit;
    if (!kiln_provided && !has_bit(supported, o.bit)) {
      return fail("CPU feature +{}: KVM on this host does not support it", o.name);
    }
    if (!set_bit(entries, o.bit, true)) return fail("CPU feature +{}: its CPUID leaf is missing", o.name);
  }
  return {};
}

// Step 4: hide what depends on a hidden feature until nothing changes; no XSAVE, no leaf 0xD.
void apply_dependencies(std::vector<kvm_cpuid_entry2>& entries) {
  bool changed = true;
  while (changed) {
    changed = false;
    for (const FeatureDependency& d : feature_dependencies()) {
      const CpuFeature* f = find_cpu_feature(d.feature);
      const CpuFeature* needs = find_cpu_feature(d.needs);
      if (f == nullptr || needs == nullptr) continue;
      if (has_bit(entries, f->bit) && !has_bit(entries, needs->bit)) {
        set_bit(entries, f->bit, false);
        changed = true;
      }
    }
  }
  if (!has_bit(entries, kXsaveBit)) {
    std::erase_if(entries, [](const kvm_cpuid_entry2& e) { return e.function == 0xd; });
  }
}

// Step 5.
void power_and_pmu(std::vector<kvm_cpuid_entry2>& entries, bool pmu) {
  for (auto& e : entries) {
    if (e.function != 6) continue;
    e.eax &= kLeaf6Arat;
    e.ebx = e.ecx = e.edx = 0;
  }
  if (pmu) return;
  zero_leaf(entries, 0xa);
  zero_leaf(entries, 0x80000022);
  for (const CpuidBit& b : {kPdcmBit, kAmdPerfCtrCore, kAmdPerfCtrNb, kAmdPerfCtrLlc}) set_bit(entries, b, false);
}

}  // namespace

Result<std::vector<kvm_cpuid_entry2>> build_cpuid(std::span<const kvm_cpuid_entry2> supported,
                                                  const CpuidConfig& cfg, uint32_t vcpu_id) {
  if (cfg.vcpus == 0 || cfg.vcpus > kMaxVcpus) {
    return fail("CPUID describes 1 to {} vCPUs, not {}", kMaxVcpus, cfg.vcpus);
  }
  if (vcpu_id >= cfg.vcpus) return fail("vCPU {} is past the {} vCPUs", vcpu_id, cfg.vcpus);
  auto tmpl = KILN_TRY_VALUE(find_cpu_template(cfg.template_name));
  std::vector<kvm_cpuid_entry2> out(supported.begin(), supported.end());
  if (find_entry(out, 1, 0) == nullptr) return fail("KVM_GET_SUPPORTED_CPUID has no leaf 1");

  kvm_leaves(out, supported);
  set_bit(out, kHypervisorBit, true);
  if (cfg.tsc_deadline_timer) set_bit(out, kTscDeadlineBit, true);
  for (const HiddenFeature& h : tmpl->hidden) {
    const CpuFeature* f = find_cpu_feature(h.name);
    if (f != nullptr) set_bit(out, f->bit, false);
  }
  KILN_TRY(apply_overrides(out, supported, cfg));
  apply_dependencies(out);
  power_and_pmu(out, cfg.pmu);
  cpuid_detail::apply_topology(out, cfg.vcpus, vcpu_id);
  return out;
}

std::string pvm_kernel_parameters(std::span<const kvm_cpuid_entry2> cpuid, std::string_view cmdline) {
  if (find_entry(cpuid, 1, 0) == nullptr || has_bit(cpuid, kXsaveBit)) return {};
  std::istringstream words{std::string(cmdline)};
  for (std::string word; words >> word;) {
    if (word == "noxsave") return {};
  }
  return "noxsave";
}

}  // namespace kiln::x86
