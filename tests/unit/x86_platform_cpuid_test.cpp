// The CPUID policy on synthetic KVM_GET_SUPPORTED_CPUID lists shaped like Intel and AMD hosts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "arch/x86_64/platform/cpuid.h"
#include "arch/x86_64/platform/cpuid_entries.h"

namespace kiln::x86 {
namespace {

constexpr uint32_t kIndexed = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;

kvm_cpuid_entry2 entry(uint32_t leaf, uint32_t sub, uint32_t flags, uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  return {leaf, sub, flags, a, b, c, d, {}};
}

// Leaf 0 vendor registers from a 12-character string.
kvm_cpuid_entry2 vendor(uint32_t max_leaf, const char (&name)[13]) {
  kvm_cpuid_entry2 e = entry(0, 0, 0, max_leaf, 0, 0, 0);
  std::memcpy(&e.ebx, name, 4);
  std::memcpy(&e.edx, name + 4, 4);
  std::memcpy(&e.ecx, name + 8, 4);
  return e;
}

// Cache leaf EAX: type (1 data, 2 instruction, 3 unified) and level, host topology bits set.
uint32_t cache_eax(uint32_t type, uint32_t level) { return type | (level << 5) | (7u << 14) | (15u << 26); }

constexpr uint32_t kLeaf1Ecx = (1u << 0) | (1u << 9) | (1u << 12) | (1u << 13) | (1u << 15) | (1u << 19) |
                               (1u << 20) | (1u << 21) | (1u << 22) | (1u << 23) | (1u << 25) | (1u << 26) |
                               (1u << 27) | (1u << 28) | (1u << 29) | (1u << 30);
constexpr uint32_t kLeaf7Ebx = (1u << 0) | (1u << 3) | (1u << 5) | (1u << 7) | (1u << 8) | (1u << 9) | (1u << 10) |
                               (1u << 18) | (1u << 19) | (1u << 20) | (1u << 29);
constexpr uint32_t kKvmReported = 0x01007eff;  // bits 0-7, 9-14 and 24, as a recent KVM reports

std::vector<kvm_cpuid_entry2> intel_host() {
  return {
      vendor(0x1f, "GenuineIntel"),
      entry(1, 0, 0, 0x000806f8, (9u << 24) | (64u << 16) | (8u << 8), kLeaf1Ecx, 0x178bfbff),
      entry(4, 0, kIndexed, cache_eax(1, 1), 0, 0, 0),
      entry(4, 1, kIndexed, cache_eax(2, 1), 0, 0, 0),
      entry(4, 2, kIndexed, cache_eax(3, 2), 0, 0, 0),
      entry(4, 3, kIndexed, cache_eax(3, 3), 0, 0, 0),
      entry(4, 4, kIndexed, 0, 0, 0, 0),
      entry(6, 0, 0, 0x77, 1, 9, 0),
      entry(7, 0, kIndexed, 1, kLeaf7Ebx, (1u << 22) | (1u << 3) | (1u << 4), 0),
      entry(7, 1, kIndexed, 1u << 4, 0, 0, 0),
      entry(0xa, 0, 0, 0x07300805, 0, 0, 0x603),
      entry(0xb, 0, kIndexed, 1, 2, 0x100, 9),  // newer KVMs report only subleaf 0
      entry(0xd, 0, kIndexed, 0x2e7, 0xa88, 0xa88, 0),
      entry(0xd, 1, kIndexed, 0xf, 0, 0, 0),
      entry(0xd, 2, kIndexed, 0x100, 0x240, 0, 0),
      entry(0x1f, 0, kIndexed, 1, 2, 0x100, 9),
      entry(0x40000000, 0, 0, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d),
      entry(0x40000001, 0, 0, kKvmReported, 0, 0, 1),
      entry(0x80000000, 0, 0, 0x80000008, 0, 0, 0),
      entry(0x80000001, 0, 0, 0, 0, (1u << 0) | (1u << 5) | (1u << 8), (1u << 11) | (1u << 20) | (1u << 29)),
      entry(0x80000008, 0, 0, 0x3030, 0, 0, 0),
  };
}

std::vector<kvm_cpuid_entry2> amd_host() {
  return {
      vendor(0x10, "AuthenticAMD"),
      entry(1, 0, 0, 0x00a00f11, (3u << 24) | (32u << 16), kLeaf1Ecx, 0x178bfbff),
      entry(7, 0, kIndexed, 0, kLeaf7Ebx, 0, 0),
      entry(0xd, 0, kIndexed, 0x207, 0x340, 0x988, 0),
      entry(0x40000001, 0, 0, kKvmReported, 0, 0, 0),
      entry(0x80000000, 0, 0, 0x80000021, 0, 0, 0),
      entry(0x80000001, 0, 0, 0, 0, (1u << 22) | (1u << 23) | (1u << 5), 0),
      entry(0x80000008, 0, 0, 0x3030, 0, 0x0000703f, 0),
      entry(0x8000001d, 0, kIndexed, cache_eax(1, 1), 0, 0, 0),
      entry(0x8000001d, 1, kIndexed, cache_eax(3, 2), 0, 0, 0),
      entry(0x8000001d, 2, kIndexed, cache_eax(3, 3), 0, 0, 0),
      entry(0x8000001d, 3, kIndexed, 0, 0, 0, 0),
      entry(0x8000001e, 0, 0, 6, 0x103, 0x100, 0),
  };
}

const kvm_cpuid_entry2& get(const std::vector<kvm_cpuid_entry2>& e, uint32_t leaf, uint32_t sub = 0) {
  const kvm_cpuid_entry2* p = cpuid_detail::find_entry(std::span<const kvm_cpuid_entry2>(e), leaf, sub);
  if (p == nullptr) throw std::runtime_error("missing leaf " + std::to_string(leaf));
  return *p;
}

bool has_leaf(const std::vector<kvm_cpuid_entry2>& e, uint32_t leaf) {
  return std::any_of(e.begin(), e.end(), [&](const kvm_cpuid_entry2& x) { return x.function == leaf; });
}

bool has(const std::vector<kvm_cpuid_entry2>& e, std::string_view feature) {
  const CpuFeature* f = find_cpu_feature(feature);
  if (f == nullptr) throw std::runtime_error("unknown feature in test");
  return cpuid_detail::has_bit(e, f->bit);
}

std::vector<kvm_cpuid_entry2> build(const std::vector<kvm_cpuid_entry2>& host, const CpuidConfig& cfg, uint32_t id) {
  auto r = build_cpuid(host, cfg, id);
  if (!r) throw std::runtime_error(r.error().message);
  return std::move(*r);
}

TEST(X86PlatformCpuid, ApicIdsAndIntelTopology) {
  const auto host = intel_host();
  const CpuidConfig cfg{5, "none", {}};
  for (uint32_t id = 0; id < 5; ++id) {
    const auto c = build(host, cfg, id);
    EXPECT_EQ(get(c, 1).ebx >> 24, id);
    EXPECT_EQ((get(c, 1).ebx >> 16) & 0xff, 8u) << "5 rounded up to a power of two";
    EXPECT_EQ((get(c, 1).ebx >> 8) & 0xff, 8u) << "CLFLUSH size kept";
    EXPECT_NE(get(c, 1).edx & (1u << 28), 0u) << "HTT";
    for (uint32_t leaf : {0xbu, 0x1fu}) {
      const auto& smt = get(c, leaf, 0);
      const auto& core = get(c, leaf, 1);
      const auto& end = get(c, leaf, 2);
      EXPECT_EQ(smt.edx, id);
      EXPECT_EQ(core.edx, id);
      EXPECT_EQ(smt.eax, 0u);
      EXPECT_EQ(smt.ebx, 1u);
      EXPECT_EQ(smt.ecx, 0x100u) << "level 0 is SMT";
      EXPECT_EQ(core.eax, 3u) << "ceil(log2(5))";
      EXPECT_EQ(core.ebx, 5u);
      EXPECT_EQ(core.ecx, 0x201u) << "level 1 is core";
      EXPECT_EQ(end.ecx & 0xff00, 0u) << "level 2 is invalid";
      EXPECT_NE(core.flags & kIndexed, 0u);
    }
    EXPECT_EQ(get(c, 4, 0).eax >> 26, 4u) << "cores per package - 1";
    EXPECT_EQ((get(c, 4, 0).eax >> 14) & 0xfff, 0u) << "L1 is per core";
    EXPECT_EQ((get(c, 4, 2).eax >> 14) & 0xfff, 0u) << "L2 is per core";
    EXPECT_EQ((get(c, 4, 3).eax >> 14) & 0xfff, 4u) << "L3 is shared by all";
    EXPECT_EQ(get(c, 4, 4).eax, 0u);
  }
  const auto single = build(host, CpuidConfig{1, "none", {}}, 0);
  EXPECT_EQ(get(single, 1).edx & (1u << 28), 0u) << "no HTT with one vCPU";
  EXPECT_EQ(get(single, 0xb, 1).eax, 0u);
}

TEST(X86PlatformCpuid, AmdTopology) {
  const auto c = build(amd_host(), CpuidConfig{6, "none", {}}, 4);
  EXPECT_EQ(get(c, 1).ebx >> 24, 4u);
  EXPECT_EQ(get(c, 0x80000008).ecx & 0xff, 5u) << "NC = cores - 1";
  EXPECT_EQ((get(c, 0x80000008).ecx >> 12) & 0xf, 3u) << "ApicIdCoreIdSize";
  EXPECT_EQ(get(c, 0x8000001e).eax, 4u) << "extended APIC id";
  EXPECT_EQ(get(c, 0x8000001e).ebx & 0xffff, 4u) << "core id 4, one thread per core";
  EXPECT_EQ(get(c, 0x8000001e).ecx & 0x7ff, 0u);
  EXPECT_EQ((get(c, 0x8000001d, 0).eax >> 14) & 0xfff, 0u);
  EXPECT_EQ((get(c, 0x8000001d, 2).eax >> 14) & 0xfff, 5u);
  EXPECT_FALSE(has(c, "perfctr-core")) << "PMU hidden by default";
}

TEST(X86PlatformCpuid, HypervisorAndKvmLeaves) {
  const auto c = build(intel_host(), CpuidConfig{2, "none", {}}, 1);
  EXPECT_TRUE(has(c, "hypervisor"));
  const auto& sig = get(c, 0x40000000);
  EXPECT_EQ(sig.eax, 0x40000001u);
  char text[12];
  std::memcpy(text, &sig.ebx, 4);
  std::memcpy(text + 4, &sig.ecx, 4);
  std::memcpy(text + 8, &sig.edx, 4);
  EXPECT_EQ(std::string(text, 12), std::string("KVMKVMKVM\0\0\0", 12));
  const auto& kvm = get(c, 0x40000001);
  EXPECT_EQ(kvm.eax, kKvmReported & kOfferedKvmFeatures);
  for (const char* f : {"kvmclock", "kvmclock2", "kvmclock-stable-bit", "kvm-nopiodelay", "kvm-pv-eoi"}) {
    EXPECT_TRUE(has(c, f)) << f;
  }
  EXPECT_EQ(kvm.eax & (1u << 2), 0u) << "MMU_OP is not offered";
  EXPECT_EQ(kvm.edx, 0u) << "no realtime hint";
  // Only what KVM reports: a host without kvmclock2 gets none.
  auto host = intel_host();
  host[17].eax = 1u << 0;
  EXPECT_EQ(get(build(host, CpuidConfig{1, "none", {}}, 0), 0x40000001).eax, 1u);
}

TEST(X86PlatformCpuid, PvmTemplateHidesWhatKvmPvmCannotEmulate) {
  const auto host = intel_host();
  const auto none = build(host, CpuidConfig{1, "none", {}}, 0);
  const auto pvm = build(host, CpuidConfig{1, "pvm", {}}, 0);
  for (const char* f : {"cx16", "xsave", "osxsave", "popcnt", "avx", "avx2", "bmi1", "bmi2", "movbe", "sse4.2",
                        "rdrand", "rdseed", "smap", "smep", "fsgsbase", "pku", "rdpid", "abm", "adx", "sha-ni",
                        "invpcid", "fma", "f16c", "avx-vnni"}) {
    EXPECT_TRUE(has(none, f)) << f;
    EXPECT_FALSE(has(pvm, f)) << f;
  }
  EXPECT_TRUE(has_leaf(none, 0xd));
  EXPECT_FALSE(has_leaf(pvm, 0xd)) << "no XSAVE, no leaf 0xD";
  for (const char* f : {"sse4.1", "ssse3", "erms", "fpu", "lm", "x2apic"}) EXPECT_TRUE(has(pvm, f)) << f;
}

TEST(X86PlatformCpuid, PvmHostsGetNoxsaveWhenXsaveIsHidden) {
  const auto host = amd_host();
  const auto pvm = build(host, CpuidConfig{1, "pvm", {}}, 0);
  EXPECT_EQ(pvm_kernel_parameters(pvm, "console=ttyS0 reboot=k"), "noxsave");
  EXPECT_EQ(pvm_kernel_parameters(pvm, "console=ttyS0 noxsave quiet"), "") << "already on the command line";
  EXPECT_EQ(pvm_kernel_parameters(pvm, "noxsaveopt"), "noxsave") << "a different parameter";
  EXPECT_EQ(pvm_kernel_parameters(build(host, CpuidConfig{1, "none", {}}, 0), ""), "") << "XSAVE offered";
  EXPECT_EQ(pvm_kernel_parameters(std::vector<kvm_cpuid_entry2>{}, ""), "") << "no leaf 1: nothing known";
}

TEST(X86PlatformCpuid, OverridesApplyInOrder) {
  const auto host = intel_host();
  auto overrides = parse_feature_overrides("-cx16,+popcnt,-avx2");
  ASSERT_TRUE(overrides.has_value());
  const auto none = build(host, CpuidConfig{1, "none", *overrides}, 0);
  EXPECT_FALSE(has(none, "cx16"));
  EXPECT_TRUE(has(none, "popcnt"));
  EXPECT_FALSE(has(none, "avx2"));
  EXPECT_TRUE(has(none, "avx"));
  const auto pvm = build(host, CpuidConfig{1, "pvm", *overrides}, 0);
  EXPECT_TRUE(has(pvm, "popcnt")) << "+ re-enables what the template hid";
  EXPECT_FALSE(has(pvm, "cx16"));

  // A later item wins.
  const auto last = build(host, CpuidConfig{1, "none", *parse_feature_overrides("-popcnt,+popcnt")}, 0);
  EXPECT_TRUE(has(last, "popcnt"));
}

TEST(X86PlatformCpuid, HidingXsaveTakesItsDependents) {
  const auto c = build(intel_host(), CpuidConfig{1, "none", *parse_feature_overrides("-xsave")}, 0);
  EXPECT_FALSE(has(c, "xsave"));
  EXPECT_FALSE(has(c, "osxsave"));
  EXPECT_FALSE(has(c, "avx"));
  EXPECT_FALSE(has(c, "avx2"));
  EXPECT_FALSE(has(c, "fma"));
  EXPECT_FALSE(has(c, "avx-vnni"));
  EXPECT_FALSE(has(c, "pku"));
  EXPECT_FALSE(has(c, "ospke"));
  EXPECT_FALSE(has_leaf(c, 0xd));
  EXPECT_TRUE(has(c, "popcnt"));
}

TEST(X86PlatformCpuid, EnablingNeedsKvmSupport) {
  const auto host = intel_host();
  auto r = build_cpuid(host, CpuidConfig{1, "none", *parse_feature_overrides("+avx512f")}, 0);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("avx512f"), std::string::npos) << r.error().message;
  EXPECT_FALSE(build_cpuid(host, CpuidConfig{1, "none", *parse_feature_overrides("+tsc-deadline")}, 0).has_value());
  CpuidConfig with_timer{1, "none", *parse_feature_overrides("+tsc-deadline")};
  with_timer.tsc_deadline_timer = true;
  EXPECT_TRUE(has(build(host, with_timer, 0), "tsc-deadline"));
  EXPECT_FALSE(has(build(host, CpuidConfig{1, "none", {}}, 0), "tsc-deadline"));
}

TEST(X86PlatformCpuid, PmuAndPowerLeaves) {
  const auto host = intel_host();
  const auto off = build(host, CpuidConfig{1, "none", {}}, 0);
  EXPECT_EQ(get(off, 0xa).eax, 0u);
  EXPECT_EQ(get(off, 0xa).edx, 0u);
  EXPECT_FALSE(has(off, "pdcm"));
  EXPECT_EQ(get(off, 6).eax, 0x4u) << "ARAT only";
  EXPECT_EQ(get(off, 6).ecx, 0u);
  CpuidConfig cfg{1, "none", {}};
  cfg.pmu = true;
  const auto on = build(host, cfg, 0);
  EXPECT_EQ(get(on, 0xa).eax, 0x07300805u);
  EXPECT_TRUE(has(on, "pdcm"));
}

TEST(X86PlatformCpuid, RejectsBadRequests) {
  const auto host = intel_host();
  EXPECT_FALSE(build_cpuid(host, CpuidConfig{0, "none", {}}, 0).has_value());
  EXPECT_FALSE(build_cpuid(host, CpuidConfig{kMaxVcpus + 1, "none", {}}, 0).has_value());
  EXPECT_FALSE(build_cpuid(host, CpuidConfig{2, "none", {}}, 2).has_value());
  auto bad = build_cpuid(host, CpuidConfig{1, "fast", {}}, 0);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("none"), std::string::npos);
  EXPECT_NE(bad.error().message.find("pvm"), std::string::npos);
  EXPECT_FALSE(build_cpuid(std::vector<kvm_cpuid_entry2>{vendor(0, "GenuineIntel")}, CpuidConfig{}, 0).has_value());
  EXPECT_TRUE(build_cpuid(host, CpuidConfig{kMaxVcpus, "none", {}}, kMaxVcpus - 1).has_value());
}

}  // namespace
}  // namespace kiln::x86
