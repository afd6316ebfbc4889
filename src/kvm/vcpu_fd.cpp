#include "kvm/vcpu_fd.h"

#include <sys/ioctl.h>

namespace kiln {

Status VcpuFd::run() {
  if (::ioctl(fd_.get(), KVM_RUN, 0) < 0) {
    if (errno == EINTR || errno == EAGAIN) {
      run_state()->exit_reason = KVM_EXIT_INTR;
      return {};
    }
    return fail_errno("KVM_RUN");
  }
  return {};
}

Result<kvm_regs> VcpuFd::get_regs() const {
  kvm_regs regs{};
  if (::ioctl(fd_.get(), KVM_GET_REGS, &regs) < 0) return fail_errno("KVM_GET_REGS");
  return regs;
}

Status VcpuFd::set_regs(const kvm_regs& regs) {
  if (::ioctl(fd_.get(), KVM_SET_REGS, &regs) < 0) return fail_errno("KVM_SET_REGS");
  return {};
}

Result<kvm_sregs> VcpuFd::get_sregs() const {
  kvm_sregs sregs{};
  if (::ioctl(fd_.get(), KVM_GET_SREGS, &sregs) < 0) return fail_errno("KVM_GET_SREGS");
  return sregs;
}

Status VcpuFd::set_sregs(const kvm_sregs& sregs) {
  if (::ioctl(fd_.get(), KVM_SET_SREGS, &sregs) < 0) return fail_errno("KVM_SET_SREGS");
  return {};
}

Status VcpuFd::set_fpu(const kvm_fpu& fpu) {
  if (::ioctl(fd_.get(), KVM_SET_FPU, &fpu) < 0) return fail_errno("KVM_SET_FPU");
  return {};
}

Status VcpuFd::set_cpuid(const std::vector<kvm_cpuid_entry2>& entries) {
  std::vector<uint8_t> buf(sizeof(kvm_cpuid2) + entries.size() * sizeof(kvm_cpuid_entry2));
  auto* cpuid = reinterpret_cast<kvm_cpuid2*>(buf.data());
  cpuid->nent = static_cast<uint32_t>(entries.size());
  std::copy(entries.begin(), entries.end(), cpuid->entries);
  if (::ioctl(fd_.get(), KVM_SET_CPUID2, cpuid) < 0) return fail_errno("KVM_SET_CPUID2");
  return {};
}

Status VcpuFd::set_msrs(const std::vector<kvm_msr_entry>& msrs) {
  std::vector<uint8_t> buf(sizeof(kvm_msrs) + msrs.size() * sizeof(kvm_msr_entry));
  auto* list = reinterpret_cast<kvm_msrs*>(buf.data());
  list->nmsrs = static_cast<uint32_t>(msrs.size());
  std::copy(msrs.begin(), msrs.end(), list->entries);
  const int set = ::ioctl(fd_.get(), KVM_SET_MSRS, list);
  if (set < 0) return fail_errno("KVM_SET_MSRS");
  if (static_cast<size_t>(set) != msrs.size()) {
    return fail("KVM_SET_MSRS: MSR {:#x} refused", msrs[static_cast<size_t>(set)].index);
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
  if (got < 0) return fail_errno("KVM_GET_MSRS");
  if (got != 1) return fail("KVM_GET_MSRS: MSR {:#x} not readable", index);
  return entry->data;
}

Result<kvm_vcpu_events> VcpuFd::get_vcpu_events() const {
  kvm_vcpu_events events{};
  if (::ioctl(fd_.get(), KVM_GET_VCPU_EVENTS, &events) < 0) return fail_errno("KVM_GET_VCPU_EVENTS");
  return events;
}

Status VcpuFd::set_vcpu_events(const kvm_vcpu_events& events) {
  if (::ioctl(fd_.get(), KVM_SET_VCPU_EVENTS, &events) < 0) return fail_errno("KVM_SET_VCPU_EVENTS");
  return {};
}

Result<kvm_xcrs> VcpuFd::get_xcrs() const {
  kvm_xcrs xcrs{};
  if (::ioctl(fd_.get(), KVM_GET_XCRS, &xcrs) < 0) return fail_errno("KVM_GET_XCRS");
  return xcrs;
}

}  // namespace kiln
