#include "kvm/vcpu_fd.h"

#include <sys/ioctl.h>

#include <algorithm>
#include <cstring>

#include "kvm/kvm_error.h"

namespace kiln {

Status VcpuFd::run() {
  if (::ioctl(fd_.get(), KVM_RUN, 0) < 0) {
    if (errno == EINTR || errno == EAGAIN) {
      run_state()->exit_reason = KVM_EXIT_INTR;
      return {};
    }
    return kvm_errno("KVM_RUN");
  }
  return {};
}

Result<kvm_regs> VcpuFd::get_regs() const {
  kvm_regs regs{};
  if (::ioctl(fd_.get(), KVM_GET_REGS, &regs) < 0) return kvm_errno("KVM_GET_REGS");
  return regs;
}

Status VcpuFd::set_regs(const kvm_regs& regs) {
  if (::ioctl(fd_.get(), KVM_SET_REGS, &regs) < 0) return kvm_errno("KVM_SET_REGS");
  return {};
}

Result<kvm_sregs> VcpuFd::get_sregs() const {
  kvm_sregs sregs{};
  if (::ioctl(fd_.get(), KVM_GET_SREGS, &sregs) < 0) return kvm_errno("KVM_GET_SREGS");
  return sregs;
}

Status VcpuFd::set_sregs(const kvm_sregs& sregs) {
  if (::ioctl(fd_.get(), KVM_SET_SREGS, &sregs) < 0) return kvm_errno("KVM_SET_SREGS");
  return {};
}

Status VcpuFd::set_fpu(const kvm_fpu& fpu) {
  if (::ioctl(fd_.get(), KVM_SET_FPU, &fpu) < 0) return kvm_errno("KVM_SET_FPU");
  return {};
}

Status VcpuFd::set_cpuid(const std::vector<kvm_cpuid_entry2>& entries) {
  std::vector<uint8_t> buf(sizeof(kvm_cpuid2) + entries.size() * sizeof(kvm_cpuid_entry2));
  auto* cpuid = reinterpret_cast<kvm_cpuid2*>(buf.data());
  cpuid->nent = static_cast<uint32_t>(entries.size());
  std::copy(entries.begin(), entries.end(), cpuid->entries);
  if (::ioctl(fd_.get(), KVM_SET_CPUID2, cpuid) < 0) return kvm_errno("KVM_SET_CPUID2");
  return {};
}

Status VcpuFd::set_msrs(const std::vector<kvm_msr_entry>& msrs) {
  std::vector<uint8_t> buf(sizeof(kvm_msrs) + msrs.size() * sizeof(kvm_msr_entry));
  auto* list = reinterpret_cast<kvm_msrs*>(buf.data());
  list->nmsrs = static_cast<uint32_t>(msrs.size());
  std::copy(msrs.begin(), msrs.end(), list->entries);
  const int set = ::ioctl(fd_.get(), KVM_SET_MSRS, list);
  if (set < 0) return kvm_errno("KVM_SET_MSRS");
  if (static_cast<size_t>(set) != msrs.size()) {
    return kvm_fail("KVM_SET_MSRS: MSR {:#x} refused", msrs[static_cast<size_t>(set)].index);
  }
  return {};
}

Result<uint64_t> VcpuFd::get_msr(uint32_t index) const {
  alignas(kvm_msrs) uint8_t buf[sizeof(kvm_msrs) + sizeof(kvm_msr_entry)] = {};
  auto* msrs = reinterpret_cast<kvm_msrs*>(buf);
  auto* entry = reinterpret_cast<kvm_msr_entry*>(buf + sizeof(kvm_msrs));  // the flexible array
  msrs->nmsrs = 1;
  entry->index = index;
  const int got = ::ioctl(fd_.get(), KVM_GET_MSRS, msrs);
  if (got < 0) return kvm_errno("KVM_GET_MSRS");
  if (got != 1) return kvm_fail("KVM_GET_MSRS: MSR {:#x} not readable", index);
  return entry->data;
}

Result<kvm_vcpu_events> VcpuFd::get_vcpu_events() const {
  kvm_vcpu_events events{};
  if (::ioctl(fd_.get(), KVM_GET_VCPU_EVENTS, &events) < 0) return kvm_errno("KVM_GET_VCPU_EVENTS");
  return events;
}

Status VcpuFd::set_vcpu_events(const kvm_vcpu_events& events) {
  if (::ioctl(fd_.get(), KVM_SET_VCPU_EVENTS, &events) < 0) return kvm_errno("KVM_SET_VCPU_EVENTS");
  return {};
}

Result<kvm_xcrs> VcpuFd::get_xcrs() const {
  kvm_xcrs xcrs{};
  if (::ioctl(fd_.get(), KVM_GET_XCRS, &xcrs) < 0) return kvm_errno("KVM_GET_XCRS");
  return xcrs;
}

Status VcpuFd::set_xcrs(const kvm_xcrs& xcrs) {
  if (::ioctl(fd_.get(), KVM_SET_XCRS, &xcrs) < 0) return kvm_errno("KVM_SET_XCRS");
  return {};
}

Result<kvm_fpu> VcpuFd::get_fpu() const {
  kvm_fpu fpu{};
  if (::ioctl(fd_.get(), KVM_GET_FPU, &fpu) < 0) return kvm_errno("KVM_GET_FPU");
  return fpu;
}

Result<std::vector<uint8_t>> VcpuFd::get_xsave() const {
  // uint32_t storage keeps the area aligned like struct kvm_xsave.
  std::vector<uint32_t> area((xsave_size_ + 3) / 4, 0);
  if (xsave_size_ > sizeof(kvm_xsave)) {
    if (::ioctl(fd_.get(), KVM_GET_XSAVE2, area.data()) < 0) return kvm_errno("KVM_GET_XSAVE2");
  } else if (::ioctl(fd_.get(), KVM_GET_XSAVE, area.data()) < 0) {
    return kvm_errno("KVM_GET_XSAVE");
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(area.data());
  return std::vector<uint8_t>(bytes, bytes + xsave_size_);
}

Status VcpuFd::set_xsave(std::span<const uint8_t> area) {
  if (area.size() > xsave_size_ &&
      !std::all_of(area.begin() + static_cast<std::ptrdiff_t>(xsave_size_), area.end(), [](uint8_t b) { return b == 0; })) {
    return kvm_fail("KVM_SET_XSAVE: the saved XSAVE area has {} bytes of state, this KVM takes {}", area.size(), xsave_size_);
  }
  std::vector<uint32_t> buf((xsave_size_ + 3) / 4, 0);
  std::memcpy(buf.data(), area.data(), std::min(area.size(), xsave_size_));
  if (::ioctl(fd_.get(), KVM_SET_XSAVE, buf.data()) < 0) return kvm_errno("KVM_SET_XSAVE");
  return {};
}

Result<kvm_debugregs> VcpuFd::get_debugregs() const {
  kvm_debugregs regs{};
  if (::ioctl(fd_.get(), KVM_GET_DEBUGREGS, &regs) < 0) return kvm_errno("KVM_GET_DEBUGREGS");
  return regs;
}

Status VcpuFd::set_debugregs(const kvm_debugregs& regs) {
  if (::ioctl(fd_.get(), KVM_SET_DEBUGREGS, &regs) < 0) return kvm_errno("KVM_SET_DEBUGREGS");
  return {};
}

Result<kvm_mp_state> VcpuFd::get_mp_state() const {
  kvm_mp_state state{};
  if (::ioctl(fd_.get(), KVM_GET_MP_STATE, &state) < 0) return kvm_errno("KVM_GET_MP_STATE");
  return state;
}

Status VcpuFd::set_mp_state(const kvm_mp_state& state) {
  if (::ioctl(fd_.get(), KVM_SET_MP_STATE, &state) < 0) return kvm_errno("KVM_SET_MP_STATE");
  return {};
}

Result<kvm_lapic_state> VcpuFd::get_lapic() const {
  kvm_lapic_state lapic{};
  if (::ioctl(fd_.get(), KVM_GET_LAPIC, &lapic) < 0) return kvm_errno("KVM_GET_LAPIC");
  return lapic;
}

Status VcpuFd::set_lapic(const kvm_lapic_state& lapic) {
  if (::ioctl(fd_.get(), KVM_SET_LAPIC, &lapic) < 0) return kvm_errno("KVM_SET_LAPIC");
  return {};
}

Result<size_t> VcpuFd::get_msrs(std::span<kvm_msr_entry> entries) const {
  std::vector<uint8_t> buf(sizeof(kvm_msrs) + entries.size() * sizeof(kvm_msr_entry));
  auto* list = reinterpret_cast<kvm_msrs*>(buf.data());
  list->nmsrs = static_cast<uint32_t>(entries.size());
  std::copy(entries.begin(), entries.end(), list->entries);
  const int got = ::ioctl(fd_.get(), KVM_GET_MSRS, list);
  if (got < 0) return kvm_errno("KVM_GET_MSRS");
  const auto n = std::min(static_cast<size_t>(got), entries.size());
  std::copy(list->entries, list->entries + n, entries.begin());
  return n;
}

Result<uint32_t> VcpuFd::get_tsc_khz() const {
  const int khz = ::ioctl(fd_.get(), KVM_GET_TSC_KHZ, 0);
  if (khz < 0) return kvm_errno("KVM_GET_TSC_KHZ");
  return static_cast<uint32_t>(khz);
}

Status VcpuFd::set_tsc_khz(uint32_t khz) {
  if (::ioctl(fd_.get(), KVM_SET_TSC_KHZ, static_cast<unsigned long>(khz)) < 0) {
    return kvm_errno(fmt::format("KVM_SET_TSC_KHZ {}", khz));
  }
  return {};
}

Result<bool> VcpuFd::kvmclock_ctrl() {
  if (::ioctl(fd_.get(), KVM_KVMCLOCK_CTRL, 0) < 0) {
    if (errno == EINVAL) return false;  // the guest never wrote MSR_KVM_SYSTEM_TIME(_NEW)
    return kvm_errno("KVM_KVMCLOCK_CTRL");
  }
  return true;
}

}  // namespace kiln
