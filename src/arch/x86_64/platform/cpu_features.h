// Named CPUID feature bits, the CPU templates built from them, and `--cpu-feature` parsing.
//
// Names follow QEMU's spelling ("sse4.2", "avx512-vbmi2", "tsc-deadline", "kvmclock"); matching
// ignores case and treats '_', '.' and '-' alike, so Linux's /proc/cpuinfo spelling ("sse4_2")
// works too.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace kiln::x86 {

enum class CpuidReg : uint8_t { kEax, kEbx, kEcx, kEdx };

// One feature bit: CPUID.(EAX=leaf, ECX=subleaf).reg[bit].
struct CpuidBit {
  uint32_t leaf = 0;
  uint32_t subleaf = 0;
  CpuidReg reg = CpuidReg::kEax;
  uint8_t bit = 0;
};

struct CpuFeature {
  std::string_view name;
  CpuidBit bit;
};

// "+name" (enable) or "-name" (hide).
struct FeatureOverride {
  std::string_view name;  // the table's spelling (static storage)
  CpuidBit bit;
  bool enable = false;
};

// A feature that makes no sense without another one: when `needs` ends up hidden, so does `feature`.
struct FeatureDependency {
  std::string_view feature;
  std::string_view needs;
};

// A CPU template: features hidden from the guest, each with the reason.
struct HiddenFeature {
  std::string_view name;
  std::string_view why;
};
struct CpuTemplate {
  std::string_view name;
  std::string_view summary;
  std::span<const HiddenFeature> hidden;
};

[[nodiscard]] std::span<const CpuFeature> known_cpu_features();
[[nodiscard]] const CpuFeature* find_cpu_feature(std::string_view name);
[[nodiscard]] std::span<const FeatureDependency> feature_dependencies();

// Templates: "none" (everything KVM supports) and "pvm" (see cpu_features.cpp for its table).
[[nodiscard]] std::span<const CpuTemplate> cpu_templates();
[[nodiscard]] Result<const CpuTemplate*> find_cpu_template(std::string_view name);

// Parses "-cx16,+popcnt, -avx2": comma-separated, each item '+' or '-' then a feature name.
// An empty string gives no overrides. Unknown names fail with the list of known names.
[[nodiscard]] Result<std::vector<FeatureOverride>> parse_feature_overrides(std::string_view text);

// True when the host's KVM is kvm_pvm (/sys/module/kvm_pvm exists): the VMM then defaults to
// the "pvm" template.
[[nodiscard]] bool host_is_kvm_pvm();
// "pvm" on kvm_pvm hosts, "none" elsewhere.
[[nodiscard]] std::string_view default_cpu_template(bool kvm_pvm);

}  // namespace kiln::x86
