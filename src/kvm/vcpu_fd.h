// A KVM vCPU fd and its shared kvm_run page (kvm/api.txt 4.10, section 5).
#pragma once

#include "kvm/uapi.h"

#include <vector>

#include "common/mmap_region.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace kiln {

class VcpuFd {
 public:
  VcpuFd(UniqueFd fd, MmapRegion run) : fd_(std::move(fd)), run_(std::move(run)) {}

  // KVM_RUN. EINTR (a kick) is reported as success with exit_reason KVM_EXIT_INTR.
  [[nodiscard]] Status run();
  [[nodiscard]] kvm_run* run_state() const { return reinterpret_cast<kvm_run*>(run_.data()); }

  [[nodiscard]] Result<kvm_regs> get_regs() const;
  [[nodiscard]] Status set_regs(const kvm_regs& regs);
  [[nodiscard]] Result<kvm_sregs> get_sregs() const;
  [[nodiscard]] Status set_sregs(const kvm_sregs& sregs);
  [[nodiscard]] Status set_fpu(const kvm_fpu& fpu);
  [[nodiscard]] Status set_cpuid(const std::vector<kvm_cpuid_entry2>& entries);
  [[nodiscard]] Status set_msrs(const std::vector<kvm_msr_entry>& msrs);
  [[nodiscard]] Result<uint64_t> get_msr(uint32_t index) const;
  [[nodiscard]] Result<kvm_vcpu_events> get_vcpu_events() const;
  [[nodiscard]] Status set_vcpu_events(const kvm_vcpu_events& events);
  [[nodiscard]] Result<kvm_xcrs> get_xcrs() const;

  [[nodiscard]] int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  MmapRegion run_;
};

}  // namespace kiln
