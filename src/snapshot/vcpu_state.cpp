// save_vcpu / restore_vcpu: the KVM side of a vCPU snapshot (kvm/api.txt section 4).
#include "snapshot/vcpu_state.h"

#include <algorithm>
#include <cstdlib>

#include "common/log.h"
#include "snapshot/msr_list.h"

namespace kiln::snapshot {
namespace {

// KVM_GET_MSRS / KVM_SET_MSRS take fewer than 256 entries per call (MAX_IO_MSRS in x86.c).
constexpr size_t kMsrsPerCall = 255;
// TSC frequencies within 250 ppm count as equal (host calibration jitter; QEMU and Firecracker
// use the same tolerance).
constexpr uint64_t kTscTolerancePpm = 250;

// KVM_GET_MSRS stops at the first MSR it cannot read. Reads the rest past it; an essential MSR
// that cannot be read fails the snapshot, any other is left out (and logged).
Result<std::vector<kvm_msr_entry>> read_msrs(const VcpuFd& vcpu, std::span<const uint32_t> indices) {
  std::vector<kvm_msr_entry> entries(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) entries[i].index = indices[i];
  size_t pos = 0;
  while (pos < entries.size()) {
    const size_t n = std::min(kMsrsPerCall, entries.size() - pos);
    auto got = KILN_TRY_VALUE(vcpu.get_msrs(std::span(entries).subspan(pos, n)));
    pos += got;
    if (got == n) continue;
    const uint32_t bad = entries[pos].index;
    if (msr_is_essential(bad)) return fail("KVM_GET_MSRS cannot read {}, which a snapshot needs", msr_name(bad));
    log("snapshot: KVM cannot read {}; the snapshot leaves it out", msr_name(bad));
    entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(pos));
  }
  return entries;
}

Status write_msrs(VcpuFd& vcpu, const std::vector<kvm_msr_entry>& msrs) {
  for (size_t pos = 0; pos < msrs.size(); pos += kMsrsPerCall) {
    const size_t n = std::min(kMsrsPerCall, msrs.size() - pos);
    KILN_TRY(vcpu.set_msrs(std::vector<kvm_msr_entry>(msrs.begin() + static_cast<std::ptrdiff_t>(pos),
                                                      msrs.begin() + static_cast<std::ptrdiff_t>(pos + n))));
  }
  return {};
}

// Guest time must run at the rate it had: scale the TSC when this host's differs.
Status restore_tsc_khz(VcpuFd& vcpu, uint32_t saved_khz) {
  if (saved_khz == 0) return {};  // the snapshot could not tell: nothing to compare
  auto now = vcpu.get_tsc_khz();
  if (now) {
    const uint64_t diff = *now > saved_khz ? *now - saved_khz : saved_khz - *now;
    if (diff * 1'000'000 <= uint64_t{saved_khz} * kTscTolerancePpm) return {};
  }
  if (auto set = vcpu.set_tsc_khz(saved_khz); !set) {
    return fail("the snapshot's TSC ran at {} kHz, this host's runs at {} and KVM cannot scale it ({}); "
                "restore on a host with the same TSC frequency or with TSC scaling",
                saved_khz, now ? fmt::format("{} kHz", *now) : std::string("an unknown rate"), set.error().message);
  }
  return {};
}

}  // namespace

Result<VcpuState> save_vcpu(VcpuFd& vcpu, std::span<const uint32_t> msr_indices,
                            std::vector<kvm_cpuid_entry2> cpuid) {
  VcpuState s;
  s.cpuid = std::move(cpuid);
  // KVM_GET_MP_STATE first: it processes pending INIT/SIPI, which changes the LAPIC and
  // registers that the later reads capture. KVM_GET_VCPU_EVENTS last (Firecracker's order).
  s.mp_state = KILN_TRY_VALUE(vcpu.get_mp_state());
  s.regs = KILN_TRY_VALUE(vcpu.get_regs());
  s.sregs = KILN_TRY_VALUE(vcpu.get_sregs());
  s.fpu = KILN_TRY_VALUE(vcpu.get_fpu());
  s.xsave = KILN_TRY_VALUE(vcpu.get_xsave());
  s.xcrs = KILN_TRY_VALUE(vcpu.get_xcrs());
  s.debugregs = KILN_TRY_VALUE(vcpu.get_debugregs());
  s.lapic = KILN_TRY_VALUE(vcpu.get_lapic());
  if (auto khz = vcpu.get_tsc_khz(); khz) {
    s.tsc_khz = *khz;
  } else {
    log("snapshot: {}; the snapshot cannot check the TSC frequency on restore", khz.error().message);
  }
  s.msrs = KILN_TRY_VALUE(read_msrs(vcpu, msr_indices));
  s.events = KILN_TRY_VALUE(vcpu.get_vcpu_events());
  return s;
}

Status restore_vcpu(VcpuFd& vcpu, const VcpuState& s) {
  KILN_TRY(vcpu.set_cpuid(s.cpuid));
  KILN_TRY(restore_tsc_khz(vcpu, s.tsc_khz));
  KILN_TRY(vcpu.set_mp_state(s.mp_state));
  KILN_TRY(vcpu.set_regs(s.regs));
  KILN_TRY(vcpu.set_sregs(s.sregs));
  // The XSAVE area holds the x87/SSE state too and wins over KVM_SET_FPU.
  KILN_TRY(vcpu.set_fpu(s.fpu));
  KILN_TRY(vcpu.set_xsave(s.xsave));
  KILN_TRY(vcpu.set_xcrs(s.xcrs));
  KILN_TRY(vcpu.set_debugregs(s.debugregs));
  KILN_TRY(vcpu.set_lapic(s.lapic));
  KILN_TRY(write_msrs(vcpu, s.msrs));
  // KVM_GET_VCPU_EVENTS reports sipi_vector without flagging it valid, and KVM_SET_VCPU_EVENTS
  // ignores unflagged fields: an AP waiting for its SIPI would lose the vector (QEMU sets the
  // flag too). NMI_PENDING is flagged by current kernels already; set it for any snapshot.
  kvm_vcpu_events events = s.events;
  events.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
  return vcpu.set_vcpu_events(events);
}

}  // namespace kiln::snapshot
