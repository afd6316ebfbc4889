// A KVM vCPU fd and its shared kvm_run page (kvm/api.txt 4.10, section 5).
#pragma once

#include "kvm/uapi.h"

#include <cstdint>
#include <span>
#include <vector>

#include "common/mmap_region.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace kiln {

class VcpuFd {
 public:
  // `xsave_size`: bytes KVM_GET_XSAVE2/KVM_SET_XSAVE transfer (KVM_CAP_XSAVE2 on the VM fd,
  // at least sizeof(kvm_xsave)).
  VcpuFd(UniqueFd fd, MmapRegion run, size_t xsave_size = sizeof(kvm_xsave))
      : fd_(std::move(fd)), run_(std::move(run)), xsave_size_(xsave_size < sizeof(kvm_xsave) ? sizeof(kvm_xsave) : xsave_size) {}

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
  [[nodiscard]] Status set_xcrs(const kvm_xcrs& xcrs);

  // Snapshot state (kvm/api.txt 4.x; the getters have no side effect on the guest).
  [[nodiscard]] Result<kvm_fpu> get_fpu() const;
  // KVM_GET_XSAVE (or KVM_GET_XSAVE2 when xsave_size() > 4096): xsave_size() bytes.
  [[nodiscard]] Result<std::vector<uint8_t>> get_xsave() const;
  // KVM_SET_XSAVE: KVM reads xsave_size() bytes; a shorter area is zero-padded (components
  // beyond it are then in their initial state), a longer one must have a zero tail.
  [[nodiscard]] Status set_xsave(std::span<const uint8_t> area);
  [[nodiscard]] size_t xsave_size() const { return xsave_size_; }
  [[nodiscard]] Result<kvm_debugregs> get_debugregs() const;
  [[nodiscard]] Status set_debugregs(const kvm_debugregs& regs);
  [[nodiscard]] Result<kvm_mp_state> get_mp_state() const;
  [[nodiscard]] Status set_mp_state(const kvm_mp_state& state);
  [[nodiscard]] Result<kvm_lapic_state> get_lapic() const;
  [[nodiscard]] Status set_lapic(const kvm_lapic_state& lapic);
  // KVM_GET_MSRS on `entries` (index set, data filled in). KVM stops at the first MSR it cannot
  // read: the result is how many leading entries hold data (entries.size() when all did).
  [[nodiscard]] Result<size_t> get_msrs(std::span<kvm_msr_entry> entries) const;
  // KVM_GET_TSC_KHZ / KVM_SET_TSC_KHZ (KVM_CAP_GET_TSC_KHZ, KVM_CAP_TSC_CONTROL).
  [[nodiscard]] Result<uint32_t> get_tsc_khz() const;
  [[nodiscard]] Status set_tsc_khz(uint32_t khz);
  // KVM_KVMCLOCK_CTRL (4.76): tells a guest using kvmclock that it was paused, so its soft-lockup
  // watchdog does not fire. Ok(false) when the guest has not enabled kvmclock (EINVAL).
  [[nodiscard]] Result<bool> kvmclock_ctrl();

  [[nodiscard]] int fd() const { return fd_.get(); }

 private:
  UniqueFd fd_;
  MmapRegion run_;
  size_t xsave_size_;
};

}  // namespace kiln
