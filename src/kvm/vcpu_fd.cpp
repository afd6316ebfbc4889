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

}  // namespace kiln
