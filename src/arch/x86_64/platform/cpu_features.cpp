#include "arch/x86_64/platform/cpu_features.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <string>

namespace kiln::x86 {

namespace {

using R = CpuidReg;

constexpr CpuFeature bit_of(std::string_view name, uint32_t leaf, uint32_t subleaf, R reg, uint8_t bit) {
  return {name, {leaf, subleaf, reg, bit}};
}
constexpr CpuFeature l1c(std::string_view n, uint8_t b) { return bit_of(n, 1, 0, R::kEcx, b); }
constexpr CpuFeature l1d(std::string_view n, uint8_t b) { return bit_of(n, 1, 0, R::kEdx, b); }
constexpr CpuFeature l7b(std::string_view n, uint8_t b) { return bit_of(n, 7, 0, R::kEbx, b); }
constexpr CpuFeature l7c(std::string_view n, uint8_t b) { return bit_of(n, 7, 0, R::kEcx, b); }
constexpr CpuFeature l7d(std::string_view n, uint8_t b) { return bit_of(n, 7, 0, R::kEdx, b); }
constexpr CpuFeature l71a(std::string_view n, uint8_t b) { return bit_of(n, 7, 1, R::kEax, b); }
constexpr CpuFeature ldxa(std::string_view n, uint8_t b) { return bit_of(n, 0xd, 1, R::kEax, b); }
constexpr CpuFeature e1c(std::string_view n, uint8_t b) { return bit_of(n, 0x80000001, 0, R::kEcx, b); }
constexpr CpuFeature e1d(std::string_view n, uint8_t b) { return bit_of(n, 0x80000001, 0, R::kEdx, b); }
constexpr CpuFeature kvm(std::string_view n, uint8_t b) { return bit_of(n, 0x40000001, 0, R::kEax, b); }

// Intel SDM vol. 2A CPUID, AMD APM vol. 3 appendix E, Linux Documentation/virt/kvm/x86/cpuid.rst.
constexpr std::array kFeatures{
    l1c("sse3", 0), l1c("pclmulqdq", 1), l1c("dtes64", 2), l1c("monitor", 3), l1c("ds-cpl", 4), l1c("vmx", 5),
    l1c("smx", 6), l1c("est", 7), l1c("tm2", 8), l1c("ssse3", 9), l1c("cnxt-id", 10), l1c("fma", 12),
    l1c("cx16", 13), l1c("xtpr", 14), l1c("pdcm", 15), l1c("pcid", 17), l1c("dca", 18), l1c("sse4.1", 19),
    l1c("sse4.2", 20), l1c("x2apic", 21), l1c("movbe", 22), l1c("popcnt", 23), l1c("tsc-deadline", 24),
    l1c("aes", 25), l1c("xsave", 26), l1c("osxsave", 27), l1c("avx", 28), l1c("f16c", 29), l1c("rdrand", 30),
    l1c("hypervisor", 31),
    l1d("fpu", 0), l1d("vme", 1), l1d("de", 2), l1d("pse", 3), l1d("tsc", 4), l1d("msr", 5), l1d("pae", 6),
    l1d("mce", 7), l1d("cx8", 8), l1d("apic", 9), l1d("sep", 11), l1d("mtrr", 12), l1d("pge", 13), l1d("mca", 14),
    l1d("cmov", 15), l1d("pat", 16), l1d("pse36", 17), l1d("clflush", 19), l1d("mmx", 23), l1d("fxsr", 24),
    l1d("sse", 25), l1d("sse2", 26), l1d("ss", 27), l1d("ht", 28),
    l7b("fsgsbase", 0), l7b("tsc-adjust", 1), l7b("sgx", 2), l7b("bmi1", 3), l7b("hle", 4), l7b("avx2", 5),
    l7b("smep", 7), l7b("bmi2", 8), l7b("erms", 9), l7b("invpcid", 10), l7b("rtm", 11), l7b("mpx", 14),
    l7b("avx512f", 16), l7b("avx512dq", 17), l7b("rdseed", 18), l7b("adx", 19), l7b("smap", 20),
    l7b("avx512ifma", 21), l7b("clflushopt", 23), l7b("clwb", 24), l7b("avx512pf", 26), l7b("avx512er", 27),
    l7b("avx512cd", 28), l7b("sha-ni", 29), l7b("avx512bw", 30), l7b("avx512vl", 31),
    l7c("avx512vbmi", 1), l7c("umip", 2), l7c("pku", 3), l7c("ospke", 4), l7c("waitpkg", 5),
    l7c("avx512-vbmi2", 6), l7c("gfni", 8), l7c("vaes", 9), l7c("vpclmulqdq", 10), l7c("avx512-vnni", 11),
    l7c("avx512-bitalg", 12), l7c("avx512-vpopcntdq", 14), l7c("la57", 16), l7c("rdpid", 22),
    l7c("cldemote", 25), l7c("movdiri", 27), l7c("movdir64b", 28),
    l7d("avx512-4vnniw", 2), l7d("avx512-4fmaps", 3), l7d("fsrm", 4), l7d("avx512-vp2intersect", 8),
    l7d("md-clear", 10), l7d("serialize", 14), l7d("tsx-ldtrk", 16), l7d("arch-lbr", 19), l7d("amx-bf16", 22),
    l7d("avx512-fp16", 23), l7d("amx-tile", 24), l7d("amx-int8", 25), l7d("spec-ctrl", 26), l7d("stibp", 27),
    l7d("flush-l1d", 28), l7d("arch-capabilities", 29), l7d("ssbd", 31),
    l71a("avx-vnni", 4), l71a("avx512-bf16", 5), l71a("fzrm", 10), l71a("fsrs", 11), l71a("fsrc", 12),
    l71a("avx-ifma", 23),
    ldxa("xsaveopt", 0), ldxa("xsavec", 1), ldxa("xgetbv1", 2), ldxa("xsaves", 3),
    e1c("lahf-lm", 0), e1c("cmp-legacy", 1), e1c("svm", 2), e1c("extapic", 3), e1c("cr8legacy", 4),
    e1c("abm", 5), e1c("sse4a", 6), e1c("misalignsse", 7), e1c("3dnowprefetch", 8), e1c("osvw", 9),
    e1c("xop", 11), e1c("skinit", 12), e1c("fma4", 16), e1c("tbm", 21), e1c("topoext", 22),
    e1c("perfctr-core", 23), e1c("perfctr-nb", 24),
    e1d("syscall", 11), e1d("nx", 20), e1d("mmxext", 22), e1d("fxsr-opt", 25), e1d("pdpe1gb", 26),
    e1d("rdtscp", 27), e1d("lm", 29),
    kvm("kvmclock", 0), kvm("kvm-nopiodelay", 1), kvm("kvmclock2", 3), kvm("kvm-asyncpf", 4),
    kvm("kvm-steal-time", 5), kvm("kvm-pv-eoi", 6), kvm("kvm-pv-unhalt", 7), kvm("kvm-pv-tlb-flush", 9),
    kvm("kvm-asyncpf-vmexit", 10), kvm("kvm-pv-ipi", 11), kvm("kvm-poll-control", 12),
    kvm("kvm-pv-sched-yield", 13), kvm("kvm-asyncpf-int", 14), kvm("kvm-msi-ext-dest-id", 15),
    kvm("kvmclock-stable-bit", 24),
};

// Linux arch/x86/kernel/cpu/cpuid-deps.c, for the features a template or override can hide.
constexpr std::array kDependencies{
    FeatureDependency{"osxsave", "xsave"},       FeatureDependency{"xsaveopt", "xsave"},
    FeatureDependency{"xsavec", "xsave"},        FeatureDependency{"xgetbv1", "xsave"},
    FeatureDependency{"xsaves", "xsave"},        FeatureDependency{"avx", "xsave"},
    FeatureDependency{"pku", "xsave"},           FeatureDependency{"ospke", "pku"},
    FeatureDependency{"amx-tile", "xsave"},      FeatureDependency{"amx-bf16", "amx-tile"},
    FeatureDependency{"amx-int8", "amx-tile"},   FeatureDependency{"avx2", "avx"},
    FeatureDependency{"fma", "avx"},             FeatureDependency{"f16c", "avx"},
    FeatureDependency{"vaes", "avx"},            FeatureDependency{"vpclmulqdq", "avx"},
    FeatureDependency{"avx-vnni", "avx"},        FeatureDependency{"avx-ifma", "avx"},
    FeatureDependency{"xop", "avx"},             FeatureDependency{"fma4", "avx"},
    FeatureDependency{"avx512f", "avx"},         FeatureDependency{"avx512dq", "avx512f"},
    FeatureDependency{"avx512ifma", "avx512f"},  FeatureDependency{"avx512pf", "avx512f"},
    FeatureDependency{"avx512er", "avx512f"},    FeatureDependency{"avx512cd", "avx512f"},
    FeatureDependency{"avx512bw", "avx512f"},    FeatureDependency{"avx512vl", "avx512f"},
    FeatureDependency{"avx512vbmi", "avx512f"},  FeatureDependency{"avx512-vbmi2", "avx512f"},
    FeatureDependency{"avx512-vnni", "avx512f"}, FeatureDependency{"avx512-bitalg", "avx512f"},
    FeatureDependency{"avx512-vpopcntdq", "avx512f"}, FeatureDependency{"avx512-4vnniw", "avx512f"},
    FeatureDependency{"avx512-4fmaps", "avx512f"},    FeatureDependency{"avx512-vp2intersect", "avx512f"},
    FeatureDependency{"avx512-fp16", "avx512f"},      FeatureDependency{"avx512-bf16", "avx512f"},
};

// The "pvm" template. kvm_pvm runs the guest kernel deprivileged and emulates, with KVM's x86
// instruction emulator, what the guest kernel cannot do natively there (writes to write-protected
// page tables, MMIO, privileged instructions). An instruction the emulator cannot handle stops
// the VM with KVM_INTERNAL_ERROR_EMULATION, so the template hides the features whose instructions
// the guest kernel would otherwise pick (through alternatives, crypto/checksum drivers, FPU code).
// Kept: erms/fsrm (KVM emulates REP MOVS/STOS), tsc-deadline (an MSR write KVM's local APIC
// handles), and the SSE-encoded sse4.1/ssse3/aes/pclmulqdq, which the guest kernel runs only in
// kernel_fpu_begin() sections; hide them with --cpu-feature if a guest still trips on one.
constexpr std::string_view kNoEmulator = "KVM's emulator has no handler for the instruction";
constexpr std::string_view kVex = "VEX/EVEX/XOP-encoded instructions; KVM's emulator decodes none";
constexpr std::string_view kXsave = "XSAVE family (XSAVE*/XRSTOR*/XSETBV); without it Linux uses FXSAVE";
constexpr std::string_view kDeprivileged =
    "CPL0-only instruction or CR4 feature, not native for kvm_pvm's deprivileged guest kernel";
constexpr std::string_view kNested = "no nested virtualization under kvm_pvm";
constexpr std::array kPvmHidden{
    HiddenFeature{"cx16", "CMPXCHG16B: KVM's emulator refuses 16-byte CMPXCHG (SLUB uses it)"},
    HiddenFeature{"xsave", kXsave}, HiddenFeature{"osxsave", kXsave}, HiddenFeature{"xsaveopt", kXsave},
    HiddenFeature{"xsavec", kXsave}, HiddenFeature{"xgetbv1", kXsave}, HiddenFeature{"xsaves", kXsave},
    HiddenFeature{"avx", kVex}, HiddenFeature{"avx2", kVex}, HiddenFeature{"fma", kVex},
    HiddenFeature{"f16c", kVex}, HiddenFeature{"fma4", kVex}, HiddenFeature{"xop", kVex},
    HiddenFeature{"tbm", kVex}, HiddenFeature{"bmi1", kVex}, HiddenFeature{"bmi2", kVex},
    HiddenFeature{"vaes", kVex}, HiddenFeature{"vpclmulqdq", kVex}, HiddenFeature{"avx-vnni", kVex},
    HiddenFeature{"avx-ifma", kVex}, HiddenFeature{"avx512f", kVex}, HiddenFeature{"avx512dq", kVex},
    HiddenFeature{"avx512ifma", kVex}, HiddenFeature{"avx512pf", kVex}, HiddenFeature{"avx512er", kVex},
    HiddenFeature{"avx512cd", kVex}, HiddenFeature{"avx512bw", kVex}, HiddenFeature{"avx512vl", kVex},
    HiddenFeature{"avx512vbmi", kVex}, HiddenFeature{"avx512-vbmi2", kVex}, HiddenFeature{"avx512-vnni", kVex},
    HiddenFeature{"avx512-bitalg", kVex}, HiddenFeature{"avx512-vpopcntdq", kVex},
    HiddenFeature{"avx512-4vnniw", kVex}, HiddenFeature{"avx512-4fmaps", kVex},
    HiddenFeature{"avx512-vp2intersect", kVex}, HiddenFeature{"avx512-fp16", kVex},
    HiddenFeature{"avx512-bf16", kVex}, HiddenFeature{"amx-tile", kVex}, HiddenFeature{"amx-bf16", kVex},
    HiddenFeature{"amx-int8", kVex},
    HiddenFeature{"popcnt", kNoEmulator}, HiddenFeature{"abm", kNoEmulator}, HiddenFeature{"adx", kNoEmulator},
    HiddenFeature{"movbe", kNoEmulator}, HiddenFeature{"sse4.2", "CRC32/PCMPxSTRx (crc32c for ext4/btrfs metadata)"},
    HiddenFeature{"sha-ni", kNoEmulator}, HiddenFeature{"gfni", kNoEmulator},
    HiddenFeature{"rdrand", kNoEmulator}, HiddenFeature{"rdseed", kNoEmulator},
    HiddenFeature{"smap", kDeprivileged}, HiddenFeature{"smep", kDeprivileged},
    HiddenFeature{"fsgsbase", kDeprivileged}, HiddenFeature{"invpcid", kDeprivileged},
    HiddenFeature{"pku", kDeprivileged}, HiddenFeature{"ospke", kDeprivileged},
    HiddenFeature{"rdpid", "RDPID reads IA32_TSC_AUX, which kvm_pvm's guest kernel cannot own"},
    HiddenFeature{"vmx", kNested}, HiddenFeature{"svm", kNested},
};

constexpr std::array kTemplates{
    CpuTemplate{"none", "every feature KVM reports", {}},
    CpuTemplate{"pvm", "hides what kvm_pvm cannot emulate in the guest kernel", kPvmHidden},
};

// Lower case, with '_' and '.' read as '-'.
std::string normalized(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '_' || c == '.') c = '-';
  }
  return out;
}

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::span<const CpuFeature> known_cpu_features() { return kFeatures; }
std::span<const FeatureDependency> feature_dependencies() { return kDependencies; }
std::span<const CpuTemplate> cpu_templates() { return kTemplates; }

const CpuFeature* find_cpu_feature(std::string_view name) {
  const std::string wanted = normalized(name);
  auto it = std::find_if(kFeatures.begin(), kFeatures.end(),
                         [&](const CpuFeature& f) { return normalized(f.name) == wanted; });
  return it == kFeatures.end() ? nullptr : &*it;
}

Result<const CpuTemplate*> find_cpu_template(std::string_view name) {
  for (const CpuTemplate& t : kTemplates) {
    if (t.name == name) return &t;
  }
  std::string names;
  for (const CpuTemplate& t : kTemplates) {
    names += fmt::format("{}{} ({})", names.empty() ? "" : ", ", t.name, t.summary);
  }
  return fail("unknown CPU template \"{}\"; known templates: {}", name, names);
}

Result<std::vector<FeatureOverride>> parse_feature_overrides(std::string_view text) {
  std::vector<FeatureOverride> out;
  if (trimmed(text).empty()) return out;
  while (true) {
    const size_t comma = text.find(',');
    const std::string_view item = trimmed(text.substr(0, comma));
    if (item.size() < 2 || (item[0] != '+' && item[0] != '-')) {
      return fail("CPU feature override \"{}\": expected +name or -name", item);
    }
    const CpuFeature* f = find_cpu_feature(item.substr(1));
    if (f == nullptr) {
      std::string names;
      for (const CpuFeature& k : kFeatures) names += fmt::format("{}{}", names.empty() ? "" : " ", k.name);
      return fail("unknown CPU feature \"{}\"; known features: {}", item.substr(1), names);
    }
    out.push_back({f->name, f->bit, item[0] == '+'});
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

bool host_is_kvm_pvm() {
  struct stat st {};
  return ::stat("/sys/module/kvm_pvm", &st) == 0;
}

std::string_view default_cpu_template(bool kvm_pvm) { return kvm_pvm ? "pvm" : "none"; }

}  // namespace kiln::x86
