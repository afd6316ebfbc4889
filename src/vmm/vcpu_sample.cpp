// The guest profiler's sample, taken by the vCPU thread itself after KVM_RUN returned for the
// profiler's kick: the thread owns the vCPU fd, so nothing else has to stop it.
#include "vmm/vcpu.h"

namespace kiln {

void Vcpu::take_sample() {
  if (profile_ == nullptr) return;
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [start] { return std::chrono::steady_clock::now() - start; };
  // An application processor still waiting for INIT/SIPI has the reset state's registers: it is
  // counted as such, not at its reset vector (kvm/api.txt 4.38 KVM_GET_MP_STATE).
  auto mp = fd_.get_mp_state();
  if (mp && (mp->mp_state == KVM_MP_STATE_UNINITIALIZED || mp->mp_state == KVM_MP_STATE_INIT_RECEIVED ||
             mp->mp_state == KVM_MP_STATE_SIPI_RECEIVED)) {
    profile_->add_not_started(elapsed());
    return;
  }
  auto regs = fd_.get_regs();
  auto sregs = fd_.get_sregs();
  if (!mp || !regs || !sregs) {
    profile_->add_failed();
    return;
  }
  // In protected and long mode the CPL is CS.RPL (SDM vol. 3A 5.5); real mode runs at CPL 0.
  constexpr uint64_t kCr0Pe = 1;
  const bool user = (sregs->cr0 & kCr0Pe) != 0 && (sregs->cs.selector & 3) == 3;
  profile_->add(regs->rip, user ? VcpuProfile::Mode::kUser : VcpuProfile::Mode::kKernel, elapsed());
}

}  // namespace kiln
