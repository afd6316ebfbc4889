#include "snapshot/cpu_compat.h"

#include <fmt/format.h>

#include <array>
#include <cstring>
#include <string>

#include "arch/x86_64/platform/cpu_features.h"
#include "arch/x86_64/platform/cpuid_entries.h"

namespace kiln::snapshot {
namespace {

using x86::CpuidReg;
using x86::cpuid_detail::find_entry;

struct CheckedRegister {
  uint32_t leaf;
  uint32_t subleaf;
  CpuidReg reg;
  uint32_t ignored;  // bits not compared (see the header)
};

constexpr std::array kChecked{
    CheckedRegister{1, 0, CpuidReg::kEcx, (1u << 24) | (1u << 27) | (1u << 31)},
    CheckedRegister{1, 0, CpuidReg::kEdx, 1u << 28},
    CheckedRegister{7, 0, CpuidReg::kEbx, 0},
    CheckedRegister{7, 0, CpuidReg::kEcx, 1u << 4},
    CheckedRegister{7, 0, CpuidReg::kEdx, 0},
    CheckedRegister{0x80000001, 0, CpuidReg::kEcx, 0},
    CheckedRegister{0x80000001, 0, CpuidReg::kEdx, 0},
    CheckedRegister{0xd, 0, CpuidReg::kEax, 0},
    CheckedRegister{0xd, 0, CpuidReg::kEdx, 0},
    CheckedRegister{0xd, 1, CpuidReg::kEax, 0},
    CheckedRegister{0x40000001, 0, CpuidReg::kEax, 0},
};

uint32_t value(const kvm_cpuid_entry2& e, CpuidReg r) {
  kvm_cpuid_entry2 copy = e;  // x86::reg hands out a reference into the entry
  return x86::cpuid_detail::reg(copy, r);
}

const char* reg_name(CpuidReg r) {
  constexpr std::array names{"EAX", "EBX", "ECX", "EDX"};
  return names[static_cast<size_t>(r)];
}

std::string feature_name(const CheckedRegister& c, uint8_t bit) {
  const std::string where = fmt::format("CPUID {:#x}.{} {}[{}]", c.leaf, c.subleaf, reg_name(c.reg), bit);
  for (const auto& f : x86::known_cpu_features()) {
    if (f.bit.leaf == c.leaf && f.bit.subleaf == c.subleaf && f.bit.reg == c.reg && f.bit.bit == bit) {
      return fmt::format("{} ({})", f.name, where);
    }
  }
  return where;
}

std::string vendor(std::span<const kvm_cpuid_entry2> entries) {
  const kvm_cpuid_entry2* leaf0 = find_entry(entries, 0, 0);
  if (leaf0 == nullptr) return {};
  char v[13] = {};
  std::memcpy(v, &leaf0->ebx, 4);
  std::memcpy(v + 4, &leaf0->edx, 4);
  std::memcpy(v + 8, &leaf0->ecx, 4);
  return std::string(v, strnlen(v, 12));
}

// 0xD.i for i >= 2: EAX size, EBX offset in the standard-format XSAVE area.
Status check_xsave_layout(std::span<const kvm_cpuid_entry2> saved, std::span<const kvm_cpuid_entry2> host) {
  for (uint32_t i = 2; i < 64; ++i) {
    const kvm_cpuid_entry2* s = find_entry(saved, 0xd, i);
    if (s == nullptr || s->eax == 0 || (s->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) == 0) continue;
    const kvm_cpuid_entry2* h = find_entry(host, 0xd, i);
    if (h == nullptr || h->eax != s->eax || h->ebx != s->ebx) {
      return fail("XSAVE component {}: {} bytes at offset {} in the snapshot, {} on this host; the saved "
                  "XSAVE area cannot be read here",
                  i, s->eax, s->ebx, h == nullptr ? std::string("absent") : fmt::format("{} bytes at offset {}", h->eax, h->ebx));
    }
  }
  return {};
}

}  // namespace

Status check_cpu_compatible(const std::vector<kvm_cpuid_entry2>& saved,
                            const std::vector<kvm_cpuid_entry2>& host_supported) {
  const std::string saved_vendor = vendor(saved);
  const std::string host_vendor = vendor(host_supported);
  if (saved_vendor.empty()) return fail("the snapshot's CPUID has no leaf 0 (CPU vendor)");
  if (saved_vendor != host_vendor) {
    return fail("the snapshot was taken on a {} CPU and this host's is {}: a snapshot restores only on "
                "the CPU vendor it was taken on",
                saved_vendor, host_vendor.empty() ? std::string("unknown") : host_vendor);
  }
  std::string missing;
  for (const auto& c : kChecked) {
    const kvm_cpuid_entry2* s = find_entry(saved, c.leaf, c.subleaf);
    if (s == nullptr) continue;
    const kvm_cpuid_entry2* h = find_entry(host_supported, c.leaf, c.subleaf);
    const uint32_t lacking = value(*s, c.reg) & ~c.ignored & ~(h != nullptr ? value(*h, c.reg) : 0u);
    for (uint8_t bit = 0; bit < 32; ++bit) {
      if ((lacking & (1u << bit)) == 0) continue;
      if (!missing.empty()) missing += ", ";
      missing += feature_name(c, bit);
    }
  }
  if (!missing.empty()) {
    return fail("the snapshot's guest uses CPU features KVM on this host does not offer: {}", missing);
  }
  return check_xsave_layout(saved, host_supported);
}

}  // namespace kiln::snapshot
