// The VM-wide KVM state: in-kernel PIC pair and IOAPIC, PIT (channel 0-2), kvmclock base.
#pragma once

#include "kvm/uapi.h"

#include <span>
#include <vector>

#include "common/result.h"
#include "kvm/vm_fd.h"

namespace kiln::snapshot {

struct VmState {
  kvm_irqchip pic_master{};  // chip_id 0
  kvm_irqchip pic_slave{};   // chip_id 1
  kvm_irqchip ioapic{};      // chip_id 2
  kvm_pit_state2 pit{};
  kvm_clock_data clock{};
};

// Reads the VM's state; no vCPU may be running.
[[nodiscard]] Result<VmState> save_vm(const VmFd& vm);

// Writes `state` into a new VM that has its irqchip and PIT created (KVM_CREATE_IRQCHIP,
// KVM_CREATE_PIT2), before its vCPUs are restored: KVM_SET_CLOCK first, so the vCPUs' kvmclock
// MSRs are written against the restored clock. The clock is set to its saved value, so the
// guest's clock continues from the instant of the snapshot (no KVM_CLOCK_REALTIME catch-up).
[[nodiscard]] Status restore_vm(VmFd& vm, const VmState& state);

[[nodiscard]] std::vector<uint8_t> encode_vm_state(const VmState& state);
[[nodiscard]] Result<VmState> decode_vm_state(std::span<const uint8_t> bytes);

}  // namespace kiln::snapshot
