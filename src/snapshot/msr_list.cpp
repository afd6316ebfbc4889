#include "snapshot/msr_list.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

namespace kiln::snapshot {
namespace {

struct NamedMsr {
  uint32_t index;
  const char* name;
  bool essential;
};

// Saved when KVM lists them. Left out on purpose: PMU counters (kiln hides the PMU), VMX
// capabilities (no nested state in a snapshot), MCE banks (no KVM_X86_SETUP_MCE), Hyper-V,
// read-only identification MSRs (ARCH_CAPABILITIES, PLATFORM_INFO, PERF_CAPABILITIES: KVM derives
// them from the host; writing them back can be refused), SMM (kiln never enters it) and
// MSR_KVM_ASYNC_PF_ACK (a doorbell, not state).
constexpr std::array kSaved{
    NamedMsr{msr::kTsc, "TSC", true},
    NamedMsr{msr::kKvmWallClock, "KVM_WALL_CLOCK", false},
    NamedMsr{msr::kKvmSystemTime, "KVM_SYSTEM_TIME", false},
    NamedMsr{0x3a, "FEATURE_CONTROL", false},
    NamedMsr{msr::kTscAdjust, "TSC_ADJUST", false},
    NamedMsr{0x48, "SPEC_CTRL", false},
    NamedMsr{0x8b, "BIOS_SIGN_ID", false},
    NamedMsr{0x122, "TSX_CTRL", false},
    NamedMsr{0x140, "MISC_FEATURES_ENABLES", false},
    NamedMsr{msr::kSysenterCs, "SYSENTER_CS", true},
    NamedMsr{msr::kSysenterEsp, "SYSENTER_ESP", true},
    NamedMsr{msr::kSysenterEip, "SYSENTER_EIP", true},
    NamedMsr{msr::kMiscEnable, "MISC_ENABLE", true},
    NamedMsr{0x1c4, "XFD", false},
    NamedMsr{0x1c5, "XFD_ERR", false},
    NamedMsr{0xe1, "UMWAIT_CONTROL", false},
    NamedMsr{msr::kPat, "PAT", true},
    NamedMsr{msr::kTscDeadline, "TSC_DEADLINE", true},
    NamedMsr{msr::kStar, "STAR", true},
    NamedMsr{msr::kLstar, "LSTAR", true},
    NamedMsr{msr::kCstar, "CSTAR", true},
    NamedMsr{msr::kSyscallMask, "SFMASK", true},
    NamedMsr{msr::kKernelGsBase, "KERNEL_GS_BASE", true},
    NamedMsr{msr::kTscAux, "TSC_AUX", false},
    NamedMsr{0xc0010015, "HWCR", false},
    NamedMsr{0xc001011f, "VIRT_SPEC_CTRL", false},
    NamedMsr{msr::kKvmWallClockNew, "KVM_WALL_CLOCK_NEW", true},
    NamedMsr{msr::kKvmSystemTimeNew, "KVM_SYSTEM_TIME_NEW", true},
    NamedMsr{msr::kKvmAsyncPfEn, "KVM_ASYNC_PF_EN", true},
    NamedMsr{msr::kKvmStealTime, "KVM_STEAL_TIME", true},
    NamedMsr{msr::kKvmPvEoiEn, "KVM_PV_EOI_EN", true},
    NamedMsr{msr::kKvmPollControl, "KVM_POLL_CONTROL", false},
    NamedMsr{msr::kKvmAsyncPfInt, "KVM_ASYNC_PF_INT", false},
};

// KVM emulates 8 variable-range MTRR pairs (KVM_NR_VAR_MTRR), the fixed-range ones and the
// default type, but KVM_GET_MSR_INDEX_LIST does not name them.
std::vector<uint32_t> mtrrs() {
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < 16; ++i) out.push_back(0x200 + i);  // PHYSBASE0/PHYSMASK0 ... 7
  for (uint32_t i : {0x250u, 0x258u, 0x259u}) out.push_back(i);
  for (uint32_t i = 0x268; i <= 0x26f; ++i) out.push_back(i);
  out.push_back(msr::kMtrrDefType);
  return out;
}

const NamedMsr* find(uint32_t index) {
  for (const auto& m : kSaved) {
    if (m.index == index) return &m;
  }
  return nullptr;
}

}  // namespace

std::vector<uint32_t> msrs_to_save(std::span<const uint32_t> kvm_index_list) {
  std::vector<uint32_t> out = mtrrs();
  for (const auto& m : kSaved) {
    const bool listed = std::find(kvm_index_list.begin(), kvm_index_list.end(), m.index) != kvm_index_list.end();
    if (listed || m.essential) out.push_back(m.index);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  // ASYNC_PF_INT before ASYNC_PF_EN (see the header).
  const auto in = std::find(out.begin(), out.end(), msr::kKvmAsyncPfInt);
  const auto en = std::find(out.begin(), out.end(), msr::kKvmAsyncPfEn);
  if (in != out.end() && en != out.end()) std::rotate(en, in, in + 1);
  return out;
}

bool msr_is_essential(uint32_t index) {
  const NamedMsr* m = find(index);
  return m != nullptr && m->essential;
}

std::string msr_name(uint32_t index) {
  if (const NamedMsr* m = find(index)) return fmt::format("MSR {:#x} ({})", index, m->name);
  if (index == msr::kMtrrDefType) return fmt::format("MSR {:#x} (MTRR_DEF_TYPE)", index);
  return fmt::format("MSR {:#x}", index);
}

}  // namespace kiln::snapshot
