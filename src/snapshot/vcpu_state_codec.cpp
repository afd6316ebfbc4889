// Encoding of VcpuState. Field order is the format (snapshot_file.h kFormatVersion covers it);
// decode checks every count, size and enumerated value before anything reaches KVM.
#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <utility>

#include "snapshot/codec.h"
#include "snapshot/vcpu_state.h"

namespace kiln::snapshot {
namespace {

constexpr uint32_t kCpuidFlags =
    KVM_CPUID_FLAG_SIGNIFCANT_INDEX | KVM_CPUID_FLAG_STATEFUL_FUNC | KVM_CPUID_FLAG_STATE_READ_NEXT;
constexpr uint32_t kEventFlags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR |
                                 KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM |
                                 KVM_VCPUEVENT_VALID_PAYLOAD | KVM_VCPUEVENT_VALID_TRIPLE_FAULT;

bool is_flag(uint8_t v) { return v <= 1; }

Status check_cpuid(Decoder& d, const std::vector<kvm_cpuid_entry2>& cpuid) {
  if (cpuid.empty()) return d.invalid("no CPUID entries");
  std::set<std::pair<uint32_t, uint32_t>> seen;
  for (const auto& e : cpuid) {
    if ((e.flags & ~kCpuidFlags) != 0) return d.invalid(fmt::format("CPUID {:#x} has unknown flags {:#x}", e.function, e.flags));
    // Without SIGNIFCANT_INDEX KVM matches the function alone (kvm/api.txt 4.46).
    const uint32_t index = (e.flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) != 0 ? e.index : 0;
    if (!seen.insert({e.function, index}).second) {
      return d.invalid(fmt::format("CPUID leaf {:#x}.{:#x} appears twice", e.function, index));
    }
  }
  return {};
}

Status check_mp_state(Decoder& d, uint32_t mp) {
  switch (mp) {
    case KVM_MP_STATE_RUNNABLE:
    case KVM_MP_STATE_UNINITIALIZED:
    case KVM_MP_STATE_INIT_RECEIVED:
    case KVM_MP_STATE_HALTED:
    case KVM_MP_STATE_SIPI_RECEIVED:
    case KVM_MP_STATE_AP_RESET_HOLD:
      return {};
    default:
      return d.invalid(fmt::format("MP state {} is not an x86 MP state", mp));
  }
}

Status check_events(Decoder& d, const kvm_vcpu_events& e) {
  if ((e.flags & ~kEventFlags) != 0) return d.invalid(fmt::format("vCPU event flags {:#x} unknown", e.flags));
  if (!is_flag(e.exception.injected) || !is_flag(e.exception.pending) || !is_flag(e.exception.has_error_code) ||
      !is_flag(e.interrupt.injected) || !is_flag(e.interrupt.soft) || !is_flag(e.nmi.injected) ||
      !is_flag(e.nmi.pending) || !is_flag(e.nmi.masked) || !is_flag(e.smi.smm) || !is_flag(e.smi.pending) ||
      !is_flag(e.smi.smm_inside_nmi) || !is_flag(e.smi.latched_init) || !is_flag(e.triple_fault.pending)) {
    return d.invalid("a vCPU event flag holds a value other than 0 or 1");
  }
  if ((e.exception.injected != 0 || e.exception.pending != 0) && e.exception.nr >= 32) {
    return d.invalid(fmt::format("pending exception vector {} is not an exception", e.exception.nr));
  }
  return {};
}

Status check_msrs(Decoder& d, const std::vector<kvm_msr_entry>& msrs) {
  std::set<uint32_t> seen;
  for (const auto& m : msrs) {
    if (!seen.insert(m.index).second) return d.invalid(fmt::format("MSR {:#x} appears twice", m.index));
  }
  return {};
}

}  // namespace

std::vector<uint8_t> encode_vcpu_state(const VcpuState& s) {
  Encoder e;
  e.u32(static_cast<uint32_t>(s.cpuid.size()));
  for (const auto& entry : s.cpuid) e.pod(entry);
  e.u32(s.tsc_khz);
  e.pod(s.mp_state);
  e.pod(s.regs);
  e.pod(s.sregs);
  e.pod(s.fpu);
  e.bytes(s.xsave);
  e.pod(s.xcrs);
  e.pod(s.debugregs);
  e.pod(s.lapic);
  e.u32(static_cast<uint32_t>(s.msrs.size()));
  for (const auto& m : s.msrs) {
    e.u32(m.index);
    e.u64(m.data);
  }
  e.pod(s.events);
  return e.take();
}

Result<VcpuState> decode_vcpu_state(std::span<const uint8_t> bytes, uint32_t index) {
  Decoder d(bytes, fmt::format("vCPU {} state", index));
  VcpuState s;
  auto cpuid_count = KILN_TRY_VALUE(d.u32());
  if (cpuid_count > kMaxCpuidEntries) {
    return d.invalid(fmt::format("{} CPUID entries, more than KVM's {}", cpuid_count, kMaxCpuidEntries));
  }
  s.cpuid.resize(cpuid_count);
  for (auto& entry : s.cpuid) KILN_TRY(d.pod(entry));
  KILN_TRY(check_cpuid(d, s.cpuid));
  auto khz = KILN_TRY_VALUE(d.u32());
  if (khz > kMaxTscKhz) return d.invalid(fmt::format("TSC frequency of {} kHz", khz));
  s.tsc_khz = khz;
  KILN_TRY(d.pod(s.mp_state));
  KILN_TRY(check_mp_state(d, s.mp_state.mp_state));
  KILN_TRY(d.pod(s.regs));
  KILN_TRY(d.pod(s.sregs));
  KILN_TRY(d.pod(s.fpu));
  auto xsave = KILN_TRY_VALUE(d.bytes(kMaxXsaveBytes));
  if (xsave.size() < sizeof(kvm_xsave)) {
    return d.invalid(fmt::format("XSAVE area of {} bytes, less than {}", xsave.size(), sizeof(kvm_xsave)));
  }
  s.xsave.assign(xsave.begin(), xsave.end());
  KILN_TRY(d.pod(s.xcrs));
  if (s.xcrs.nr_xcrs > KVM_MAX_XCRS || s.xcrs.flags != 0) {
    return d.invalid(fmt::format("{} XCRs with flags {:#x}", s.xcrs.nr_xcrs, s.xcrs.flags));
  }
  KILN_TRY(d.pod(s.debugregs));
  if (s.debugregs.flags != 0 || (s.debugregs.dr6 >> 32) != 0 || (s.debugregs.dr7 >> 32) != 0) {
    return d.invalid("debug registers: DR6/DR7 upper halves or flags not zero");
  }
  KILN_TRY(d.pod(s.lapic));
  auto msr_count = KILN_TRY_VALUE(d.u32());
  if (msr_count > kMaxMsrs) return d.invalid(fmt::format("{} MSRs, more than the limit of {}", msr_count, kMaxMsrs));
  // Each MSR takes 12 bytes: a count larger than what is left is a truncation, not an allocation.
  if (msr_count > d.remaining() / 12) return d.invalid(fmt::format("{} MSRs do not fit in what is left", msr_count));
  s.msrs.resize(msr_count);
  for (auto& m : s.msrs) {
    auto idx = KILN_TRY_VALUE(d.u32());
    auto data = KILN_TRY_VALUE(d.u64());
    m.index = idx;
    m.data = data;
  }
  KILN_TRY(check_msrs(d, s.msrs));
  KILN_TRY(d.pod(s.events));
  KILN_TRY(check_events(d, s.events));
  KILN_TRY(d.finish());
  return s;
}

}  // namespace kiln::snapshot
